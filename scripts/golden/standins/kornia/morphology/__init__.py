"""kornia.morphology.dilation / erosion with their defaults (structuring_element None,
origin the centre, border_type "geodesic", max_val 1e4, engine "unfold"), as in
kornia/morphology/morphology.py: padding with -max_val (dilation) or +max_val (erosion) so
that only pixels inside the image count, kernel zeros excluded by -max_val."""
import torch
import torch.nn.functional as F


def _neighbourhood(kernel, max_val):
    neighborhood = torch.zeros_like(kernel)
    neighborhood[kernel == 0] = -max_val
    return neighborhood


def _pads(kernel):
    se_h, se_w = kernel.shape
    origin = [se_h // 2, se_w // 2]
    return [origin[1], se_w - origin[1] - 1, origin[0], se_h - origin[0] - 1]


def dilation(tensor, kernel, max_val=1e4):
    se_h, se_w = kernel.shape
    output = F.pad(tensor, _pads(kernel), mode="constant", value=-max_val)
    output = output.unfold(2, se_h, 1).unfold(3, se_w, 1)
    output, _ = torch.max(output + _neighbourhood(kernel, max_val).flip((0, 1)), 4)
    output, _ = torch.max(output, 4)
    return output


def erosion(tensor, kernel, max_val=1e4):
    se_h, se_w = kernel.shape
    output = F.pad(tensor, _pads(kernel), mode="constant", value=max_val)
    output = output.unfold(2, se_h, 1).unfold(3, se_w, 1)
    output, _ = torch.min(output - _neighbourhood(kernel, max_val), 4)
    output, _ = torch.min(output, 4)
    return output
