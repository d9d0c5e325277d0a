"""Stand-in for hydra.core.global_hydra: reports itself initialised, so sam2/__init__.py does nothing."""


class GlobalHydra:
    @staticmethod
    def instance():
        return GlobalHydra()

    def is_initialized(self):
        return True
