"""Stand-in for iopath (Debian's python3 lacks it): sam2's Hiera imports g_pathmgr, used only to
read pretrained trunk weights, which the golden scripts never pass."""
