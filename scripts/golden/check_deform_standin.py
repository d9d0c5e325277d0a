#!/usr/bin/env python3
"""Checks the torchvision.ops.deform_conv2d stand-in (scripts/golden/standins/torchvision/ops)
against the real torchvision on random inputs in float64: offsets large enough to leave the image,
stride, padding, dilation, groups, offset groups, with and without a mask. Run where torchvision is
installed (the GPU machine): python3 scripts/golden/check_deform_standin.py"""
import importlib.util
import os

import torch
import torchvision

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "standin_ops", os.path.join(here, "standins", "torchvision", "ops", "__init__.py"))
standin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(standin)

torch.manual_seed(0)
cases = [  # B, C, H, W, Cout, k, stride, pad, dil, groups, offset_groups, mask, offset scale
    (2, 4, 9, 11, 5, 3, 1, 1, 1, 1, 1, True, 3.0),
    (1, 6, 8, 7, 4, 7, 1, 3, 1, 1, 1, True, 5.0),
    (1, 4, 10, 12, 6, 3, 2, 2, 2, 2, 2, True, 4.0),
    (1, 3, 5, 6, 2, 1, 1, 0, 1, 1, 1, False, 2.0),
    (1, 8, 16, 16, 8, 3, 1, 1, 1, 1, 1, True, 0.0),
]
worst = 0.0
print("torch", torch.__version__, "torchvision", torchvision.__version__)
for B, C, H, W, Cout, k, s, p, d, g, og, with_mask, scale in cases:
    x = torch.randn(B, C, H, W, dtype=torch.float64)
    weight = torch.randn(Cout, C // g, k, k, dtype=torch.float64)
    bias = torch.randn(Cout, dtype=torch.float64)
    Ho = (H + 2 * p - d * (k - 1) - 1) // s + 1
    Wo = (W + 2 * p - d * (k - 1) - 1) // s + 1
    offset = torch.randn(B, 2 * og * k * k, Ho, Wo, dtype=torch.float64) * scale
    mask = torch.rand(B, og * k * k, Ho, Wo, dtype=torch.float64) * 2 if with_mask else None
    for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
        args = [t.to(device) if t is not None else None for t in (x, offset, weight, bias, mask)]
        ref = torchvision.ops.deform_conv2d(args[0], args[1], args[2], args[3], stride=s,
                                            padding=p, dilation=d, mask=args[4])
        got = standin.deform_conv2d(*[t.cpu() if t is not None else None for t in args[:4]],
                                    stride=s, padding=p, dilation=d,
                                    mask=args[4].cpu() if args[4] is not None else None)
        diff = (ref.cpu() - got).abs().max().item()
        worst = max(worst, diff)
        print("case k=%d s=%d p=%d d=%d g=%d og=%d mask=%s %s: max |diff| %.3g"
              % (k, s, p, d, g, og, with_mask, device, diff))
print("worst max |diff| (float64): %.3g" % worst)
