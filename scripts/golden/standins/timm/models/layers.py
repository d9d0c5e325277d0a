"""timm.models.layers: the older path of timm.layers."""
from timm.layers import DropPath, to_2tuple, trunc_normal_  # noqa: F401
