"""torchvision.ops.deform_conv2d (modulated deformable convolution, DCNv2) written with torch ops
so the golden runs need no torchvision build. Semantics of torchvision/csrc/ops/cpu/
deform_conv2d_kernel.cpp: the offset holds (dy, dx) pairs per kernel tap (tap k = i * kw + j,
channel 2k is dy and 2k+1 dx, per offset group); a tap samples at
(ho * stride - pad + i * dilation + dy, wo * stride - pad + j * dilation + dx) bilinearly, 0 when
the point is at or beyond one pixel outside the image (h <= -1, h >= H, likewise w), each of the
four corners contributing only if it lies inside; the sample is multiplied by the mask
(modulation), then the columns (channel-major, tap-minor, as weight.view(Cout, -1)) go through
the grouped matrix product and the bias is added. Checked against torchvision on random inputs
in float64 (scripts/golden/check_deform_standin.py; tests/data/birefnet/README.md)."""
import torch


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _bilinear(image, y, x):
    """image: B x G x Cg x H x W; y, x: B x G x K x Ho x Wo -> B x G x Cg x K x Ho x Wo."""
    B, G, Cg, H, W = image.shape
    valid = (y > -1) & (y < H) & (x > -1) & (x < W)
    y0, x0 = torch.floor(y), torch.floor(x)
    ly, lx = y - y0, x - x0
    hy, hx = 1 - ly, 1 - lx
    flat = image.reshape(B, G, Cg, H * W)
    out = 0
    for yy, xx, weight in ((y0, x0, hy * hx), (y0, x0 + 1, hy * lx),
                           (y0 + 1, x0, ly * hx), (y0 + 1, x0 + 1, ly * lx)):
        inside = valid & (yy >= 0) & (yy <= H - 1) & (xx >= 0) & (xx <= W - 1)
        index = (yy.clamp(0, H - 1) * W + xx.clamp(0, W - 1)).long()
        gathered = torch.gather(flat, 3, index.reshape(B, G, 1, -1).expand(B, G, Cg, index[0, 0].numel()))
        gathered = gathered.reshape(B, G, Cg, *index.shape[2:])
        out = out + (weight * inside.to(weight.dtype)).unsqueeze(2) * gathered
    return out


def deform_conv2d(input, offset, weight, bias=None, stride=(1, 1), padding=(0, 0),
                  dilation=(1, 1), mask=None):
    if input.dtype not in (torch.float32, torch.float64):
        # torchvision's autocast rule runs deform_conv2d in float32 (its kernels take no bf16).
        f = lambda t: None if t is None else t.float()
        return _deform_conv2d(f(input), f(offset), f(weight), f(bias), stride, padding, dilation,
                              f(mask)).to(input.dtype)
    return _deform_conv2d(input, offset, weight, bias, stride, padding, dilation, mask)


def _deform_conv2d(input, offset, weight, bias, stride, padding, dilation, mask):
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    B, C, H, W = input.shape
    Cout, Cg_w, kh, kw = weight.shape
    groups = C // Cg_w
    K = kh * kw
    Ho, Wo = offset.shape[-2:]
    offset_groups = offset.shape[1] // (2 * K)
    if mask is None:
        mask = torch.ones(B, offset_groups * K, Ho, Wo, dtype=input.dtype, device=input.device)
    off = offset.reshape(B, offset_groups, K, 2, Ho, Wo)
    taps_i = torch.arange(kh, dtype=input.dtype).repeat_interleave(kw)
    taps_j = torch.arange(kw, dtype=input.dtype).repeat(kh)
    rows = torch.arange(Ho, dtype=input.dtype) * sh - ph
    cols = torch.arange(Wo, dtype=input.dtype) * sw - pw
    y = rows.view(1, 1, 1, Ho, 1) + (taps_i * dh).view(1, 1, K, 1, 1) + off[:, :, :, 0]
    x = cols.view(1, 1, 1, 1, Wo) + (taps_j * dw).view(1, 1, K, 1, 1) + off[:, :, :, 1]
    image = input.reshape(B, offset_groups, C // offset_groups, H, W)
    sampled = _bilinear(image, y, x)  # B x og x C/og x K x Ho x Wo
    sampled = sampled * mask.reshape(B, offset_groups, 1, K, Ho, Wo)
    columns = sampled.reshape(B, groups, Cg_w * K, Ho * Wo)
    w = weight.reshape(groups, Cout // groups, Cg_w * K)
    out = torch.einsum("gok,bgkl->bgol", w, columns).reshape(B, Cout, Ho, Wo)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out
