"""Stand-in for torchvision (Debian's python3 may lack it): a regular package, so that the golden
runs use the stand-ins below even where python3-torchvision is installed (its CPU deform_conv2d
takes no bfloat16). Only what BiRefNet imports: ops.deform_conv2d, models' names."""
