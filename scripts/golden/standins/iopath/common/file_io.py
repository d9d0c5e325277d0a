"""Stand-in for iopath.common.file_io.g_pathmgr: local files only."""


class _PathManager:
    def open(self, path, mode="r"):
        return open(path, mode)


g_pathmgr = _PathManager()
