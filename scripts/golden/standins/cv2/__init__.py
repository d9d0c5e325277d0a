"""Stand-in for the two OpenCV functions InSPyReNet's layers.py calls at construction
(ImagePyramid, Transition); OpenCV's Python package is not installed. Same arithmetic as
modules/imgproc/src/smooth.dispatch.cpp (getGaussianKernel, CV_64F, sigma > 0) and
morph.dispatch.cpp (getStructuringElement, MORPH_ELLIPSE)."""
import math

import numpy as np

MORPH_RECT, MORPH_CROSS, MORPH_ELLIPSE = 0, 1, 2


def getGaussianKernel(ksize, sigma, ktype=None):
    if sigma <= 0:
        raise NotImplementedError("stand-in: only sigma > 0 (InSPyReNet uses sigma 1)")
    scale2x = -0.5 / (sigma * sigma)
    values = [math.exp(scale2x * (i - (ksize - 1) * 0.5) ** 2) for i in range(ksize)]
    total = 0.0
    for v in values:
        total += v
    inv = 1.0 / total
    return np.array([[v * inv] for v in values], dtype=np.float64)


def getStructuringElement(shape, ksize, anchor=(-1, -1)):
    if shape != MORPH_ELLIPSE:
        raise NotImplementedError("stand-in: only MORPH_ELLIPSE")
    width, height = ksize
    r, c = height // 2, width // 2
    inv_r2 = 1.0 / (r * r) if r else 0.0
    elem = np.zeros((height, width), dtype=np.uint8)
    for i in range(height):
        dy = i - r
        if abs(dy) <= r:
            dx = int(np.rint(c * math.sqrt((r * r - dy * dy) * inv_r2)))  # saturate_cast: cvRound
            elem[i, max(c - dx, 0):min(c + dx + 1, width)] = 1
    return elem
