"""Stand-in for kornia (not installed): only kornia.morphology.dilation/erosion, which
InSPyReNet's Transition calls."""
from . import morphology  # noqa: F401
