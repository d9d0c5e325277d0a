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
      --birefnet BIREFNET_CLONE --out tests/data/birefnet [--part swin]

  BIREFNET_CLONE: a clone (or bare mirror) of github.com/ZhengPeng7/BiRefNet that holds the COMMIT named here.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from golden_io import save_safetensors, stats

COMMIT = "25cb9309bacf3dde954e4584594e16e142c51de5"
SEED = 20261206
HERE = os.path.dirname(os.path.abspath(__file__))

# The tiny Swin-V1 (the published ones: T 96/[2,2,6,2]/[3,6,12,24]/7, L 192/[2,2,18,2]/[6,12,24,48]/12).
TINY_SWIN = dict(embed_dim=10, depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 4], window_size=7)
DECODER_WIDTHS = {64: 8, 256: 32, 1280: 160}
# "tiny" for the golden network; "swin_v1_l" / "swin_v1_t" build the published layouts (key lists).
MODE = {"size": "tiny"}


def sdpa_math(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """PyTorch 2's _scaled_dot_product_attention_math (eval, no causal mask): q and k each scaled by
    sqrt(scale), attn = q @ k^T + mask, softmax, @ v."""
    factor = math.sqrt(scale if scale is not None else 1.0 / math.sqrt(query.shape[-1]))
    attn = (query * factor) @ (key.transpose(-2, -1) * factor)
    if attn_mask is not None:
        attn = attn + attn_mask
    return torch.softmax(attn, dim=-1) @ value


def load_official(repo, real_torchvision=False):
    """real_torchvision: import the installed torchvision (python3-torchvision) before the
    stand-ins are on the path, so its compiled deform_conv2d runs (the CPU benchmark)."""
    if real_torchvision:
        import torchvision.ops  # noqa: F401
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
        if MODE["size"] != "tiny":
            self.bb = MODE["size"]
            self.lateral_channels_in_collection = {
                "swin_v1_l": [3072, 1536, 768, 384], "swin_v1_t": [1536, 768, 384, 192]}[self.bb]
            self.cxt = self.lateral_channels_in_collection[1:][::-1][-self.cxt_num:]
            return
        dims = [TINY_SWIN["embed_dim"] * 2 ** i for i in range(4)][::-1]
        self.lateral_channels_in_collection = [c * 2 for c in dims]  # mul_scl_ipt 'cat'
        self.cxt = self.lateral_channels_in_collection[1:][::-1][-self.cxt_num:] if self.cxt_num else []

    config_module.Config.__init__ = tiny_init
    import models.backbones.swin_v1 as swin_v1
    import models.backbones.build_backbone as build_backbone
    published_l = build_backbone.swin_v1_l
    build_backbone.swin_v1_l = lambda: (swin_v1.SwinTransformer(**TINY_SWIN) if MODE["size"] == "tiny"
                                        else published_l())
    import models.birefnet as birefnet
    import models.modules.aspp as aspp
    import models.modules.decoder_blocks as decoder_blocks
    import models.modules.deform_conv as deform_conv
    tiny = tiny_nn()
    for module in (aspp, decoder_blocks, deform_conv, birefnet):
        module.nn = tiny
    return types.SimpleNamespace(swin_v1=swin_v1, birefnet=birefnet, Config=config_module.Config)


def tiny_nn():
    """torch.nn with Conv2d and BatchNorm2d mapping the decoder's hard-coded widths."""
    def width(c):
        return DECODER_WIDTHS.get(c, c) if MODE["size"] == "tiny" else c

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


def swin_part(official, out, report):
    """The backbone alone (the tiny BiRefNet's bb.*, birefnet_tiny.pth) at an odd size
    (patch-embed and merging padding, window padding)."""
    net = official.swin_v1.SwinTransformer(**TINY_SWIN)
    bb = {k[3:]: v for k, v in torch.load(out + "/birefnet_tiny.pth").items() if k.startswith("bb.")}
    net.load_state_dict(bb)
    net.eval()
    torch.manual_seed(SEED + 2)
    x = torch.randn(1, 3, 50, 70)
    with torch.no_grad():
        outs32 = net(x)
    net64 = official.swin_v1.SwinTransformer(**TINY_SWIN)
    net64.load_state_dict(net.state_dict())
    net64.eval()  # drop_path_rate 0.2: DropPath is live in training mode
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


TINY_INPUT = {"square": (128, 128), "wide": (160, 96)}  # (width, height) of the network input
# BiRefNet_dynamic at the image's own resolution, as inference.py's loader runs it (data_size None).
DYNAMIC_CASES = {"dynamic": "square"}
OUT_SCALE = 4.0  # conv_out1's logits scaled to std OUT_SCALE (random weights leave them flat)


def normalize(tensor, mean, std):
    # torchvision.transforms.functional.normalize on a float tensor: sub_(mean).div_(std).
    mean = torch.as_tensor(mean, dtype=tensor.dtype).view(-1, 1, 1)
    std = torch.as_tensor(std, dtype=tensor.dtype).view(-1, 1, 1)
    return tensor.sub(mean).div(std)


def preprocess(image, size_wh):
    """The tutorial / model card's transform_image: transforms.Resize((h, w)) on the PIL image
    (Image.resize((w, h), BILINEAR): Pillow's antialiasing bilinear), ToTensor (uint8 / 255,
    CHW), Normalize(ImageNet mean, std)."""
    resized = image.resize(size_wh, Image.BILINEAR)
    array = np.asarray(resized, dtype=np.uint8)
    tensor = torch.from_numpy(array.copy()).permute(2, 0, 1).float().div(255)
    return array, normalize(tensor, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).unsqueeze(0)


def preprocess_dynamic(image):
    """dataset.py's MyData for inference at the original resolution: the size rounded down to
    multiples of 32, `image.resize(size_div_32)` (Pillow's default filter for RGB: BICUBIC) when it
    differs, then ToTensor and Normalize (its transform_image has no Resize)."""
    size_div_32 = (int(image.size[0] // 32 * 32), int(image.size[1] // 32 * 32))
    resized = image.resize(size_div_32) if image.size != size_div_32 else image
    array = np.asarray(resized, dtype=np.uint8)
    tensor = torch.from_numpy(array.copy()).permute(2, 0, 1).float().div(255)
    return array, normalize(tensor, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).unsqueeze(0)


def postprocess(logits, height, width):
    """inference.py: model(inputs)[-1].sigmoid().to(float32), F.interpolate(size=(H, W),
    bilinear, align_corners=True), save_tensor_img = ToPILImage: mul(255).byte() (truncates)."""
    pred = logits.sigmoid().to(torch.float32)
    res = F.interpolate(pred, size=(height, width), mode="bilinear", align_corners=True)
    return res, res.squeeze().mul(255).byte().numpy()


def make_images():
    shared = os.path.join(HERE, "..", "..", "..", "shared", "golden", "images")
    landscape = np.array(Image.open(shared + "/u2net_input.png").convert("RGB"))[60:190, 120:320]
    y, x = np.mgrid[0:720, 0:1280].astype(np.float64)
    large = np.stack([x / 1279 * 255, y / 719 * 255, 128 + 100 * np.sin(x / 37.0) * np.cos(y / 23.0)], -1)
    large[(x - 700) ** 2 + (y - 380) ** 2 < 230 ** 2] = [240, 30, 60]
    large[300:330, 100:1100] = [10, 200, 40]
    return {"square": landscape, "wide": large.round().clip(0, 255).astype(np.uint8)}


def encoder_and_logits(net, x):
    with torch.no_grad():
        (x1, x2, x3, x4), _ = net.forward_enc(x)
        squeezed = net.squeeze_module(x4)
        logits = net.decoder([x, x1, x2, x3, squeezed])[-1]
        assert torch.equal(logits, net(x)[-1]) or x.dtype != torch.float32
    return {"x1": x1, "x2": x2, "x3": x3, "x4": x4, "x4_squeezed": squeezed, "logits": logits}


def birefnet_part(official, out, report):
    import copy
    images = {}
    for case, array in make_images().items():
        Image.fromarray(array).save(out + "/%s.png" % case)
        images[case] = Image.open(out + "/%s.png" % case).convert("RGB")
    torch.manual_seed(SEED + 4)
    net = randomise(official.birefnet.BiRefNet(bb_pretrained=False), SEED + 5)
    with torch.no_grad():
        logits = net(preprocess(images["square"], TINY_INPUT["square"])[1])[-1]
        conv = net.decoder.conv_out1[0]
        scale = OUT_SCALE / float(logits.std())
        conv.weight.mul_(scale)
        conv.bias.sub_(float(logits.mean())).mul_(scale)
    state = net.state_dict()
    torch.save(state, out + "/birefnet_tiny.pth")
    report["tiny_parameters"] = sum(v.numel() for v in state.values() if v.is_floating_point())
    report["tiny_keys"] = len(state)
    net64 = copy.deepcopy(net).double()
    net16 = copy.deepcopy(net).to(torch.bfloat16)
    cases = {}
    for case, source in DYNAMIC_CASES.items():
        images[case] = images[source]
    for case, image in images.items():
        if case in DYNAMIC_CASES:
            resized, x = preprocess_dynamic(image)
        else:
            resized, x = preprocess(image, TINY_INPUT[case])
        r32 = encoder_and_logits(net, x)
        r64 = encoder_and_logits(net64, x.double())
        r16 = encoder_and_logits(net16, x.to(torch.bfloat16))
        matte32, u8 = postprocess(r32["logits"], image.height, image.width)
        matte64, _ = postprocess(r64["logits"], image.height, image.width)
        matte16, u8_16 = postprocess(r16["logits"].float(), image.height, image.width)
        Image.fromarray(u8, mode="L").save(out + "/birefnet_tiny__%s_matte.png" % case)
        golden = {"resized": torch.from_numpy(resized.copy()), "input": x, "matte": matte32}
        golden.update(r32)
        if image.width * image.height > 200 * 200:
            del golden["matte"]  # the PNG holds the 8-bit matte; the float one would be 3.7 MB
        if case in DYNAMIC_CASES:  # input = normalize(resized), exact; the encoder's as above
            for key in ("input", "x1", "x2", "x3", "x4", "x4_squeezed"):
                del golden[key]
        save_safetensors(out + "/birefnet_tiny__%s.safetensors" % case, golden)
        for key in r32:
            report["fp32_vs_fp64"]["%s.%s" % (case, key)] = stats(r32[key], r64[key])
            report["bf16_vs_fp64"]["%s.%s" % (case, key)] = stats(r16[key].float(), r64[key])
        report["fp32_vs_fp64"][case + ".matte"] = stats(matte32, matte64)
        report["bf16_vs_fp64"][case + ".matte"] = stats(matte16, matte64)
        report["bf16_vs_fp64"][case + ".matte_u8"] = stats(torch.from_numpy(u8_16).double() / 255,
                                                           torch.from_numpy(u8).double() / 255)
        cases[case] = {"image_wh": [image.width, image.height], "input_wh": [x.shape[3], x.shape[2]],
                       "logits_min_max_mean": [float(r32["logits"].min()), float(r32["logits"].max()),
                                               float(r32["logits"].mean())],
                       "matte_foreground_fraction": float((matte32 > 0.5).double().mean())}
    report["cases"] = cases


def key_list_part(official, out):
    """The state-dict layout of the published BiRefNet (Swin-L: BiRefNet, _HR, _dynamic, and the
    other general checkpoints) and BiRefNet_lite (Swin-T: _lite, _lite-2K), built at full size."""
    layouts = {}
    for size in ("swin_v1_l", "swin_v1_t"):
        MODE["size"] = size
        net = official.birefnet.BiRefNet(bb_pretrained=False)
        layouts[size] = {k: [list(v.shape), str(v.dtype).replace("torch.", "")]
                         for k, v in net.state_dict().items()}
        del net
    MODE["size"] = "tiny"
    with open(out + "/official_layouts.json", "w") as f:
        json.dump(layouts, f, separators=(",", ":"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--birefnet", required=True, help="clone or bare mirror of ZhengPeng7/BiRefNet")
    parser.add_argument("--out", default="tests/data/birefnet")
    parser.add_argument("--part", default="all", choices=["all", "swin", "deform", "keys"])
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
    if args.part == "all":
        birefnet_part(official, out, report)
    if args.part in ("all", "swin"):
        swin_part(official, out, report)
    if args.part in ("all", "deform"):
        deform_part(out)
    if args.part in ("all", "keys"):
        key_list_part(official, out)
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
