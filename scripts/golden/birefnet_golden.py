#!/usr/bin/python3
"""Golden data for BiRefNet (ZhengPeng7/BiRefNet) and its Swin-V1 backbone from the official code.

The official models/ and config.py run unchanged at a tiny size: Config.__init__ is wrapped so
that, after it ran, only the backbone's widths (lateral_channels_in_collection and the cxt derived
from it) differ; swin_v1_l() builds a SwinTransformer with tiny embed_dim/depths/heads/window; the
nn that aspp.py, decoder_blocks.py, deform_conv.py and birefnet.py look up maps the decoder's
hard-coded widths (64 -> 8, 256 -> 32, 1280 -> 160) so the checkpoint stays small. Everything
else is as published (mul_scl_ipt 'cat', cxt 3, dec_att ASPPDeformable, squeeze BasicDecBlk_x1,
dec_ipt with split patches, out_ref attention, BatchNorm as batch_size 8 builds it, eval mode).
Random weights with fixed seeds, the zero-initialised offset / modulator convolutions and every
BatchNorm re-randomised. Missing packages are stand-ins in scripts/golden/standins (torchvision's
deform_conv2d, einops.rearrange, ...); torch 1.13 has no F.scaled_dot_product_attention, so the
math PyTorch 2 falls back to is defined here. Usage (Debian's python3: torch 1.13, numpy, Pillow):

  nice /usr/bin/python3 scripts/golden/birefnet_golden.py \
      --birefnet /work/.mirror/ZhengPeng7+BiRefNet/repo --out tests/data/birefnet [--part swin]
"""
import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

COMMIT = "25cb9309bacf3dde954e4584594e16e142c51de5"
SEED = 20261206
HERE = os.path.dirname(os.path.abspath(__file__))

# The tiny Swin-V1 (the published ones: T 96/[2,2,6,2]/[3,6,12,24]/7, L 192/[2,2,18,2]/[6,12,24,48]/12).
TINY_SWIN = dict(embed_dim=10, depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 4], window_size=7)
DECODER_WIDTHS = {64: 8, 256: 32, 1280: 160}


def sdpa_math(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """PyTorch 2's _scaled_dot_product_attention_math (eval, no causal mask): q and k each scaled by
    sqrt(scale), attn = q @ k^T + mask, softmax, @ v."""
    factor = math.sqrt(scale if scale is not None else 1.0 / math.sqrt(query.shape[-1]))
    attn = (query * factor) @ (key.transpose(-2, -1) * factor)
    if attn_mask is not None:
        attn = attn + attn_mask
    return torch.softmax(attn, dim=-1) @ value


def load_official(repo):
    source = tempfile.mkdtemp(prefix="birefnet_src_")
    archive = subprocess.check_output(["git", "-C", repo, "archive", COMMIT])
    subprocess.run(["tar", "-x", "-C", source], input=archive, check=True)
    os.chdir(tempfile.mkdtemp(prefix="birefnet_cwd_"))  # config.py looks for ./train.sh and ../train.sh
    sys.path[:0] = [os.path.join(HERE, "standins"), source]
    if not hasattr(F, "scaled_dot_product_attention"):
        F.scaled_dot_product_attention = sdpa_math
    # dataset.py (cv2, tqdm, data loading) is imported only for class_labels_TR_sorted, which the
    # auxiliary classification (off) uses.
    sys.modules["dataset"] = types.SimpleNamespace(class_labels_TR_sorted=[])
    import config as config_module
    original_init = config_module.Config.__init__

    def tiny_init(self):
        original_init(self)
        dims = [TINY_SWIN["embed_dim"] * 2 ** i for i in range(4)][::-1]
        self.lateral_channels_in_collection = [c * 2 for c in dims]  # mul_scl_ipt 'cat'
        self.cxt = self.lateral_channels_in_collection[1:][::-1][-self.cxt_num:] if self.cxt_num else []

    config_module.Config.__init__ = tiny_init
    import models.backbones.swin_v1 as swin_v1
    import models.backbones.build_backbone as build_backbone
    build_backbone.swin_v1_l = lambda: swin_v1.SwinTransformer(**TINY_SWIN)
    import models.birefnet as birefnet
    import models.modules.aspp as aspp
    import models.modules.decoder_blocks as decoder_blocks
    import models.modules.deform_conv as deform_conv
    tiny = tiny_nn()
    for module in (aspp, decoder_blocks, deform_conv, birefnet):
        module.nn = tiny
    return types.SimpleNamespace(swin_v1=swin_v1, birefnet=birefnet, config=config_module.Config())


def tiny_nn():
    """torch.nn with Conv2d and BatchNorm2d mapping the decoder's hard-coded widths."""
    def width(c):
        return DECODER_WIDTHS.get(c, c)

    class Conv2d(torch.nn.Conv2d):
        def __init__(self, in_channels, out_channels, *args, **kwargs):
            super().__init__(width(in_channels), width(out_channels), *args, **kwargs)

    class BatchNorm2d(torch.nn.BatchNorm2d):
        def __init__(self, num_features, *args, **kwargs):
            super().__init__(width(num_features), *args, **kwargs)

    proxy = types.SimpleNamespace(**{n: getattr(torch.nn, n) for n in dir(torch.nn) if not n.startswith("_")})
    proxy.Conv2d, proxy.BatchNorm2d = Conv2d, BatchNorm2d
    return proxy


def randomise(net, seed):
    """LayerNorm and BatchNorm affine parameters, BatchNorm statistics and the zero-initialised
    offset / modulator convolutions drawn from a second seeded generator."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, m in net.named_modules():
            if isinstance(m, (torch.nn.LayerNorm, torch.nn.BatchNorm2d)):
                n = m.weight.numel()
                m.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                m.bias.copy_(torch.randn(n, generator=generator) * 0.1)
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=generator)))
            if name.endswith("offset_conv") or name.endswith("modulator_conv"):
                # Offsets of a few pixels (some taps leave the image), modulators around 2*sigmoid(0).
                scale = 0.5 if name.endswith("offset_conv") else 0.2
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * scale / math.sqrt(m.weight[0].numel()))
                m.bias.copy_(torch.randn(m.bias.shape, generator=generator) * scale)
    net.eval()  # SwinTransformer.train returns None, so eval() cannot be chained
    return net


def save_safetensors(path, tensors, metadata=None):
    codes = {torch.float32: "F32", torch.uint8: "U8", torch.int64: "I64", torch.float64: "F64",
             torch.bfloat16: "BF16"}
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        data = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = dict(metadata or {}, format="pt")
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def stats(a, b):
    d = (a.double() - b.double()).abs()
    return {"max": float(d.max()), "mean": float(d.mean())}


def swin_part(official, out, report):
    """The backbone alone at an odd size (patch-embed and merging padding, window padding)."""
    torch.manual_seed(SEED)
    net = randomise(official.swin_v1.SwinTransformer(**TINY_SWIN), SEED + 1)
    state = {"bb." + k: v for k, v in net.state_dict().items()}
    save_safetensors(out + "/swin_v1_tiny.safetensors", state)
    torch.manual_seed(SEED + 2)
    x = torch.randn(1, 3, 50, 70)
    with torch.no_grad():
        outs32 = net(x)
    net64 = randomise(official.swin_v1.SwinTransformer(**TINY_SWIN), SEED + 1)
    net64.load_state_dict(net.state_dict())
    net64 = net64.double()
    net16 = official.swin_v1.SwinTransformer(**TINY_SWIN)
    net16.load_state_dict(net.state_dict())
    net16.eval()
    net16 = net16.to(torch.bfloat16)
    with torch.no_grad():
        outs64 = net64(x.double())
        outs16 = net16(x.to(torch.bfloat16))
    golden = {"input": x}
    for i in range(4):
        golden["out%d" % i] = outs32[i]
        report["fp32_vs_fp64"]["swin.out%d" % i] = stats(outs32[i], outs64[i])
        report["bf16_vs_fp64"]["swin.out%d" % i] = stats(outs16[i].float(), outs64[i])
    save_safetensors(out + "/swin_v1_tiny__golden.safetensors", golden)


# B, C, H, W, Cout, k, stride, pad, dilation, groups, offset_groups, with mask, offset scale
DEFORM_CASES = [
    (1, 8, 12, 10, 6, 3, 1, 1, 1, 1, 1, True, 3.0),   # BiRefNet's 3 x 3 (offsets leave the image)
    (1, 8, 9, 11, 5, 7, 1, 3, 1, 1, 1, True, 5.0),    # BiRefNet's 7 x 7
    (1, 8, 7, 6, 4, 1, 1, 0, 1, 1, 1, True, 2.0),     # BiRefNet's 1 x 1
    (2, 4, 10, 12, 6, 3, 2, 2, 2, 2, 2, True, 4.0),   # stride, dilation, groups, offset groups
    (1, 3, 5, 6, 2, 3, 1, 1, 1, 1, 1, False, 1.5),    # no mask
]


def deform_part(out):
    """torchvision.ops.deform_conv2d (the stand-in, checked against torchvision) on random inputs
    in float64, each case's tensors under case<i>."""
    from torchvision.ops import deform_conv2d
    generator = torch.Generator().manual_seed(SEED + 3)
    tensors = {}
    for i, (B, C, H, W, Cout, k, s, p, d, g, og, with_mask, scale) in enumerate(DEFORM_CASES):
        Ho = (H + 2 * p - d * (k - 1) - 1) // s + 1
        Wo = (W + 2 * p - d * (k - 1) - 1) // s + 1
        draw = lambda *shape: torch.randn(*shape, generator=generator, dtype=torch.float64)
        x, weight, bias = draw(B, C, H, W), draw(Cout, C // g, k, k), draw(Cout)
        offset = draw(B, 2 * og * k * k, Ho, Wo) * scale
        mask = torch.rand(B, og * k * k, Ho, Wo, generator=generator, dtype=torch.float64) * 2
        result = deform_conv2d(x, offset, weight, bias, stride=s, padding=p, dilation=d,
                               mask=mask if with_mask else None)
        case = "case%d." % i
        tensors.update({case + "input": x, case + "offset": offset, case + "weight": weight,
                        case + "bias": bias, case + "output": result,
                        case + "geometry": torch.tensor([s, p, d], dtype=torch.int64)})
        if with_mask:
            tensors[case + "mask"] = mask
    save_safetensors(out + "/deform_conv2d_cases.safetensors", tensors)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--birefnet", required=True, help="clone or bare mirror of ZhengPeng7/BiRefNet")
    parser.add_argument("--out", default="tests/data/birefnet")
    parser.add_argument("--part", default="all", choices=["all", "swin", "deform"])
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    repo = os.path.abspath(args.birefnet)
    torch.set_num_threads(1)
    official = load_official(repo)
    report_path = out + "/birefnet_measured.json"
    report = json.load(open(report_path)) if os.path.exists(report_path) else {}
    report.update({"upstream": "ZhengPeng7/BiRefNet@" + COMMIT, "seed": SEED, "tiny_swin": TINY_SWIN,
                   "decoder_widths": {str(k): v for k, v in DECODER_WIDTHS.items()}})
    report.setdefault("fp32_vs_fp64", {})
    report.setdefault("bf16_vs_fp64", {})
    if args.part in ("all", "swin"):
        swin_part(official, out, report)
    if args.part in ("all", "deform"):
        deform_part(out)
    if args.part == "all":
        birefnet_part(official, out, report)
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
