"""Stand-in for torchvision.transforms: what sam2/utils/transforms.py imports (ToTensor, Resize,
Normalize), reproducing torchvision 0.20 (sam2's setup.py asks for torchvision>=0.20.1) on float
CHW tensors. Resize and Normalize stay scriptable (SAM2Transforms wraps them in torch.jit.script)."""
from typing import List

import numpy as np
import torch
import torch.nn.functional as F


class ToTensor:
    """PIL image or HxWxC uint8 array -> float32 CxHxW in [0, 1] (the uint8 value / 255)."""

    def __call__(self, pic):
        array = np.array(pic, dtype=np.uint8, copy=True) if not isinstance(pic, np.ndarray) else pic
        if array.ndim == 2:
            array = array[:, :, None]
        tensor = torch.from_numpy(np.ascontiguousarray(array.transpose((2, 0, 1)))).contiguous()
        if tensor.dtype == torch.uint8:
            return tensor.to(dtype=torch.float32).div(255)
        return tensor


class Resize(torch.nn.Module):
    """torchvision.transforms.Resize((h, w)) on a float tensor: antialias=True is torchvision's
    default since 0.17, so F.interpolate(bilinear, align_corners=False, antialias=True); a tensor
    already of that size is returned as is (torchvision's early exit)."""

    def __init__(self, size: List[int]):
        super().__init__()
        self.size = [int(size[0]), int(size[1])]

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        if img.shape[-2] == self.size[0] and img.shape[-1] == self.size[1]:
            return img
        batched = img.unsqueeze(0) if img.dim() == 3 else img
        out = F.interpolate(batched, size=self.size, mode="bilinear", align_corners=False,
                            antialias=True)
        return out.squeeze(0) if img.dim() == 3 else out


class Normalize(torch.nn.Module):
    """(x - mean) / std per channel, mean and std as tensors of the input's dtype."""

    def __init__(self, mean: List[float], std: List[float]):
        super().__init__()
        self.mean = [float(m) for m in mean]
        self.std = [float(s) for s in std]

    def forward(self, tensor: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(self.mean, dtype=tensor.dtype, device=tensor.device)
        std = torch.tensor(self.std, dtype=tensor.dtype, device=tensor.device)
        return tensor.sub(mean[:, None, None]).div(std[:, None, None])
