"""Stand-in for easydict (not installed): InSPyReNet's utils/misc.py imports EasyDict."""


class EasyDict(dict):
    def __getattr__(self, name):
        return self[name]
