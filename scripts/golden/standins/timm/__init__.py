"""Stand-in for timm (not installed): the three helpers Swin backbones import from
timm.models.layers (older timm) or timm.layers (newer)."""
