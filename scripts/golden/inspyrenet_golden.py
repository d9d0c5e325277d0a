#!/usr/bin/python3
"""Golden data for InSPyReNet (plemeri/InSPyReNet; the checkpoints transparent-background uses).

Builds the official lib/InSPyReNet.py with its Res2Net50-v1b and Swin-B backbones unchanged except
for widths and depths, random weights with fixed seeds, every BatchNorm's statistics and every
zero-initialised parameter re-randomised, eval mode, and runs:
  * transparent-background's Remover.process (static resize, threshold None: one forward at
    base_size) in a "fast" mode (tiny stand-in for 384) and a "base" mode (tiny stand-in for 1024);
  * the official forward_inference's high-resolution path (dynamic resize, threshold: a low- and a
    high-resolution saliency pyramid blended), at tiny sizes;
in float32 (the golden), float64 and bfloat16 (module, input and Transition's kernels converted,
the Laplacian reconstruction in float32 and rounded back; Swin's attention mask made under a
bfloat16 default dtype) to measure tolerances, and writes tests/data/inspyrenet/. Usage (Debian's python3: torch 1.13, numpy, Pillow;
OpenCV, kornia, timm and easydict come from scripts/golden/standins):

  /usr/bin/python3 scripts/golden/inspyrenet_golden.py \
      --inspyrenet INSPYRENET_CLONE --out tests/data/inspyrenet

  INSPYRENET_CLONE: a clone (or bare mirror) of github.com/plemeri/InSPyReNet that holds the COMMIT named here.
"""
import argparse
import copy
import json
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

COMMIT = "692ad8a5774cf95ef615a730d5070aad18f6b160"
TB_COMMIT = "63e3443eddaec9a04ad9dcc86aa8a7ecd95bfe83"  # transparent-background, Remover.py
SEED = 20261206
RES2NET_DIVISOR = 13  # 26 (Bottle2neck's base width) / 13 = 2: every split stays whole
DEPTH = 16  # InSPyReNet's `depth` (64 published); SelfAttention's depth // 8 = 2
SWIN = dict(embed_dim=8, depths=[2, 2, 4, 2], num_heads=[1, 2, 4, 8], window_size=4)
MODES = {"fast": 64, "base": 96}  # tiny stand-ins of transparent-background's 384 and 1024
HR = dict(base_size=64, L=160, threshold=96)  # the official SwinB config: 384, L=1280, 512
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
FILES = ["lib/__init__.py", "lib/InSPyReNet.py", "lib/backbones/Res2Net_v1b.py",
         "lib/backbones/SwinTransformer.py", "lib/modules/layers.py",
         "lib/modules/context_module.py", "lib/modules/attention_module.py",
         "lib/modules/decoder_module.py", "lib/optim/__init__.py", "lib/optim/losses.py",
         "lib/optim/scheduler.py", "utils/__init__.py", "utils/misc.py"]


def load_official(repo):
    root = tempfile.mkdtemp(prefix="inspyrenet_")
    for name in FILES:
        os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
        with open(os.path.join(root, name), "wb") as f:
            f.write(subprocess.check_output(["git", "-C", repo, "show", COMMIT + ":" + name]))
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [os.path.join(here, "standins"), root]
    import lib.InSPyReNet as inspyrenet
    import lib.backbones.Res2Net_v1b as res2net
    import lib.backbones.SwinTransformer as swin
    return inspyrenet, res2net, swin


def tiny_nn(divisor):
    """torch.nn with Conv2d and BatchNorm2d taking 1/divisor of every width (the image's 3 kept)."""
    def width(c):
        return c if c == 3 else c // divisor

    class Conv2d(torch.nn.Conv2d):
        def __init__(self, in_channels, out_channels, *args, **kwargs):
            super().__init__(width(in_channels), width(out_channels), *args, **kwargs)

    class BatchNorm2d(torch.nn.BatchNorm2d):
        def __init__(self, num_features, *args, **kwargs):
            super().__init__(width(num_features), *args, **kwargs)

    proxy = types.SimpleNamespace(**{n: getattr(torch.nn, n) for n in dir(torch.nn)
                                     if not n.startswith("_")})
    proxy.Conv2d, proxy.BatchNorm2d = Conv2d, BatchNorm2d
    return proxy, width


def build(official, backbone_name, base_size, calibration_input):
    inspyrenet, res2net, swin = official
    torch.manual_seed(SEED)
    if backbone_name == "res2net50":
        # res2net50_v1b_26w_4s: layers [3, 4, 6, 3], baseWidth 26, scale 4 (depths kept).
        res2net.nn, width = tiny_nn(RES2NET_DIVISOR)
        backbone = res2net.Res2Net(res2net.Bottle2neck, [3, 4, 6, 3], baseWidth=26, scale=4)
        res2net.nn = torch.nn
        for m in backbone.modules():
            if isinstance(m, res2net.Bottle2neck):
                m.width = width(m.width)  # torch.split's chunk: the divided width
        in_channels = [width(c) for c in [64, 256, 512, 1024, 2048]]
    else:
        backbone = swin.SwinTransformer(**SWIN)
        e = SWIN["embed_dim"]
        in_channels = [e, e, 2 * e, 4 * e, 8 * e]  # [128, 128, 256, 512, 1024] for SwinB
    # Calibrated once at the "fast" size; other base sizes (which change no shape, only SICA's
    # context sizes) get the same weights.
    calibrated = inspyrenet.InSPyReNet(backbone, in_channels, DEPTH,
                                       [MODES["fast"], MODES["fast"]], threshold=None)
    randomise(calibrated, calibration_input)
    net = calibrated
    if base_size != MODES["fast"]:
        net = inspyrenet.InSPyReNet(copy.deepcopy(backbone), in_channels, DEPTH,
                                    [base_size, base_size], threshold=None)
        net.load_state_dict(calibrated.state_dict())
    net.eval()
    return net


def to_double(net):
    """net.double(), and the constant kernels the official code keeps outside the module tree
    (ImagePyramid's Gaussian, Transition's ellipses: float32 tensors) in float64 too."""
    net = net.double()
    net.image_pyramid.kernel = net.image_pyramid.kernel.double()
    for t in (net.transition0, net.transition1, net.transition2):
        t.kernel = t.kernel.double()
    return net


class Float32Pyramid:
    """ImagePyramid.reconstruct in float32, its result rounded to bfloat16: LibTorch 1.13 has no
    bfloat16 reflection padding on the CPU (the native code does the same)."""

    def __init__(self, pyramid):
        self.pyramid = pyramid

    def reconstruct(self, x, laplacian_x):
        return self.pyramid.reconstruct(x.float(), laplacian_x.float()).to(x.dtype)


def to_bf16(net):
    """net in bfloat16 (module, input, Transition's kernels), the Laplacian pyramid's
    reconstruction in float32 (Float32Pyramid). Swin's attention mask is made with torch.zeros
    at each call: run_bf16 sets the default dtype so that it is bfloat16 too."""
    net = net.to(torch.bfloat16)  # InSPyReNet.to also converts the pyramid's kernel: undone
    net.image_pyramid.kernel = net.image_pyramid.kernel.float()
    net.image_pyramid = Float32Pyramid(net.image_pyramid)
    for t in (net.transition0, net.transition1, net.transition2):
        t.kernel = t.kernel.to(torch.bfloat16)
    return net


def run_bf16(net, sample):
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.no_grad():
            return net({k: v.to(torch.bfloat16) for k, v in sample.items()})
    finally:
        torch.set_default_dtype(torch.float32)


def randomise(net, calibration_input):
    """Random weights that behave. With PyTorch's default BatchNorm statistics (mean 0,
    variance 1) the activations of the random network grow stage after stage (d0 ~ 1e6) until
    every softmax saturates and float32 and float64 disagree by hundreds; randomised statistics
    do the same. So each BatchNorm's running statistics are those of its input on a calibration
    image (one forward with the BatchNorms in training mode, momentum None); in SICA's key and
    value convolutions, which run on 3 or 5 context vectors (sums over the whole map), the variance is kept above a tenth of the mean
    squared. Affine weights U(0.5, 1.5),
    biases N(0, 0.1^2); LayerNorm's likewise; SelfAttention.gamma (0 at initialisation: the
    attention would be skipped) U(0.5, 1.5); SICA's thresholds 0.5 + U(-0.1, 0.1)."""
    g = torch.Generator().manual_seed(SEED + 1)
    norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith(".gamma"):
                p.copy_(torch.rand(p.shape, generator=g) + 0.5)
            elif name.endswith("threshold"):
                p.copy_(0.5 + (torch.rand(p.shape, generator=g) - 0.5) * 0.2)
        for m in net.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
        for m in norms:
            m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.reset_running_stats()
            m.momentum = None  # cumulative: the statistics of this one batch
        net.eval()
        for m in norms:
            m.train()
        net({"image": calibration_input})
        for m in norms:
            m.eval()
            m.momentum = 0.1
            n = m.num_features
            # A variance measured on few values (Res2Net's layer4 sees 2 x 2 pixels, SICA's
            # key and value 3 or 5 vectors) can be tiny: floored so that another input is not
            # amplified without bound.
            floor = (m.running_var.median() * 0.25 + m.running_mean.square() * 0.1 + 1e-3)
            m.running_var.copy_(torch.maximum(m.running_var, floor))
            m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=g)))
        # The decoder's last convolution (no BatchNorm) scaled so that d3's logits have a
        # standard deviation of 2 on the calibration image, as a trained model's span (-5, 5).
        d3 = net({"image": calibration_input})["saliency"][0]
        net.decoder.conv5.conv.weight.mul_(2.0 / float(d3.std()))
        # Likewise each Laplacian level (SICA's conv_out4 and its BatchNorm), coarse to fine:
        # unscaled, d0 reached 600 and float32 and float64 parted by 10.
        for level, attention in enumerate([net.attention2, net.attention1, net.attention0]):
            p = net({"image": calibration_input})["laplacian"][level]
            scale = 2.0 / float(p.std())
            attention.conv_out4.bn.weight.mul_(scale)
            attention.conv_out4.bn.bias.mul_(scale)


def pil_resize(image, size_wh):
    return image.resize(size_wh, Image.BILINEAR)


def to_input(image):
    """transparent-background's tonumpy, normalize, totensor (utils.py): float32 array,
    /= 255 (float32), -= mean and /= std (numpy float64 lists: computed in float64, stored
    float32), HWC -> CHW."""
    img = np.array(image, dtype=np.float32)
    img /= 255
    img -= MEAN
    img /= STD
    return torch.from_numpy(img.transpose((2, 0, 1))).float().unsqueeze(0)


def dynamic_size(size_wh, L):
    """The official data/custom_transforms.py dynamic_resize's target size (W, H)."""
    size = list(size_wh)
    if (size[0] >= size[1]) and size[1] > L:
        size[0] = size[0] / (size[1] / L)
        size[1] = L
    elif (size[1] > size[0]) and size[0] > L:
        size[1] = size[1] / (size[0] / L)
        size[0] = L
    return (int(round(size[0] / 32)) * 32, int(round(size[1] / 32)) * 32)


def postprocess(pred, shape_hw):
    """Remover.process (type "map"/"rgba" alpha): F.interpolate(pred, shape, bilinear,
    align_corners=True), then (pred * 255).astype(np.uint8), which truncates."""
    pred = F.interpolate(pred.float(), shape_hw, mode="bilinear", align_corners=True)
    u8 = (pred.numpy().squeeze() * 255).astype(np.uint8)
    return pred, u8


def run_static(net, x, dtype):
    with torch.no_grad():
        return net({"image": x.double() if dtype == "f64" else x})


def make_images(shared_images):
    landscape = np.array(Image.open(shared_images + "/u2net_input.png").convert("RGB"))[60:190, 120:320]
    portrait = np.array(Image.open(shared_images + "/astronaut_crop.png").convert("RGB"))[40:200, 100:196]
    return {"landscape": landscape, "portrait": portrait}


def network_outputs(sample):
    d3, d2, d1, d0 = sample["saliency"]
    p2, p1, p0 = sample["laplacian"]
    return {"d3": d3, "d2": d2, "d1": d1, "d0": d0, "p2": p2, "p1": p1, "p0": p0,
            "pred": sample["pred"]}


def compare(report, prefix, ref32, ref64, ref16):
    for k in ref32:
        report["fp32_vs_fp64"][prefix + k] = stats(ref32[k], ref64[k])
        report["bf16_vs_fp64"][prefix + k] = stats(ref16[k].float(), ref64[k])


def backbone_features(net, x):
    with torch.no_grad():
        return {"x%d" % (i + 1): f for i, f in enumerate(net.backbone(x))}


def official_layouts(official):
    """Every key and shape of the full-size InSPyReNet_Res2Net50 and InSPyReNet_SwinB (built,
    not run): what their checkpoints and transparent-background's ckpt_base.pth / ckpt_fast.pth
    hold (Remover loads them into InSPyReNet_SwinB(depth=64, pretrained=False, ...) with
    strict=True, and base_size changes no shape)."""
    inspyrenet = official[0]
    layouts = {}
    for arch, make in [("inspyrenet_res2net50", inspyrenet.InSPyReNet_Res2Net50),
                       ("inspyrenet_swinb", inspyrenet.InSPyReNet_SwinB)]:
        net = make(depth=64, pretrained=False, base_size=[1024, 1024], threshold=None)
        sd = net.state_dict()
        layouts[arch] = {
            "keys": {k: list(v.shape) for k, v in sd.items()},
            "floats": sum(v.numel() for v in sd.values() if v.is_floating_point()),
            "parameters": sum(p.numel() for p in net.parameters())}
    return layouts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--inspyrenet", required=True, help="clone or bare mirror of plemeri/InSPyReNet")
    parser.add_argument("--shared-images", default="../shared/golden/images")
    parser.add_argument("--out", default="tests/data/inspyrenet")
    args = parser.parse_args()
    torch.set_num_threads(1)
    official = load_official(args.inspyrenet)
    with open(args.out + "/official_layouts.json", "w") as f:
        json.dump(official_layouts(official), f, separators=(",", ":"), sort_keys=True)
    images = make_images(args.shared_images)
    for case, im in images.items():
        Image.fromarray(im).save(args.out + "/%s.png" % case)
    report = {"upstream": "plemeri/InSPyReNet@" + COMMIT,
              "transparent_background": "plemeri/transparent-background@" + TB_COMMIT,
              "seed": SEED, "depth": DEPTH, "res2net_divisor": RES2NET_DIVISOR, "swin": SWIN,
              "modes": MODES, "high_resolution": HR, "fp32_vs_fp64": {}, "bf16_vs_fp64": {},
              "cases": {}}
    torch.manual_seed(SEED + 2)
    network_input = torch.randn(1, 3, 64, 96) * 0.5  # H and W multiples of 32 (Swin's merges)
    calibration = to_input(pil_resize(Image.open(args.out + "/landscape.png").convert("RGB"),
                                      (64, 64)))

    for backbone in ["res2net50", "swinb"]:
        tag = "inspyrenet_%s_tiny" % backbone
        for mode, base in MODES.items():
            net = build(official, backbone, base, calibration)
            net64 = to_double(build(official, backbone, base, calibration))
            net16 = to_bf16(build(official, backbone, base, calibration))
            if mode == "fast":
                torch.save(net.state_dict(), args.out + "/%s.pth" % tag)
                # The network alone: backbone features and every pyramid level.
                out = {"input": network_input}
                feats = backbone_features(net, network_input)
                feats64 = backbone_features(net64, network_input.double())
                for k in feats:
                    report["fp32_vs_fp64"]["%s.network.%s" % (tag, k)] = stats(feats[k], feats64[k])
                out.update(feats)
                o32 = network_outputs(run_static(net, network_input, "f32"))
                o64 = network_outputs(run_static(net64, network_input, "f64"))
                o16 = network_outputs(run_bf16(net16, {"image": network_input}))
                compare(report, tag + ".network.", o32, o64, o16)
                out.update(o32)
                save_safetensors(args.out + "/%s__network.safetensors" % tag, out)
            for case in images:
                image = Image.open(args.out + "/%s.png" % case).convert("RGB")
                shape_hw = image.size[::-1]
                resized = pil_resize(image, (base, base))
                x = to_input(resized)
                p32 = run_static(net, x, "f32")["pred"]
                p64 = run_static(net64, x, "f64")["pred"]
                p16 = run_bf16(net16, {"image": x})["pred"]
                m32, u8 = postprocess(p32, shape_hw)
                m64, _ = postprocess(p64, shape_hw)
                m16, u8_16 = postprocess(p16, shape_hw)
                name = "%s__%s_%s" % (tag, mode, case)
                Image.fromarray(u8, mode="L").save(args.out + "/%s_matte.png" % name)
                save_safetensors(args.out + "/%s.safetensors" % name,
                                 {"resized": torch.from_numpy(np.array(resized)),
                                  "input_sum": x.double().sum().view(1), "pred": p32,
                                  "matte": m32})
                key = "%s.%s.%s." % (tag, mode, case)
                report["fp32_vs_fp64"][key + "pred"] = stats(p32, p64)
                report["fp32_vs_fp64"][key + "matte"] = stats(m32, m64)
                report["bf16_vs_fp64"][key + "pred"] = stats(p16.float(), p64)
                report["bf16_vs_fp64"][key + "matte"] = stats(m16, m64)
                report["bf16_vs_fp64"][key + "matte_u8"] = stats(
                    torch.from_numpy(u8_16).double() / 255, torch.from_numpy(u8).double() / 255)
                report["cases"][name] = {"foreground_fraction": float((m32 > 0.5).double().mean()),
                                         "pred_min_max_mean": [float(p32.min()), float(p32.max()),
                                                               float(p32.mean())]}

        # The official high-resolution inference: dynamic resize to the HR size, the image also
        # resized to base_size, threshold: both pyramids and their blending.
        net = build(official, backbone, HR["base_size"], calibration)
        net64 = to_double(build(official, backbone, HR["base_size"], calibration))
        net16 = to_bf16(build(official, backbone, HR["base_size"], calibration))
        net.threshold = net64.threshold = net16.threshold = HR["threshold"]
        for case in images:
            image = Image.open(args.out + "/%s.png" % case).convert("RGB")
            shape_hw = image.size[::-1]
            hr_wh = dynamic_size(image.size, HR["L"])
            x_hr = to_input(pil_resize(image, hr_wh))
            x_lr = to_input(pil_resize(image, (HR["base_size"], HR["base_size"])))
            blended = x_hr.shape[2] > HR["threshold"] and x_hr.shape[3] > HR["threshold"]
            with torch.no_grad():
                o32 = network_outputs(net({"image": x_hr, "image_resized": x_lr}))
                o64 = network_outputs(net64({"image": x_hr.double(), "image_resized": x_lr.double()}))
            o16 = network_outputs(run_bf16(net16, {"image": x_hr, "image_resized": x_lr}))
            name = "%s__hr_%s" % (tag, case)
            compare(report, name + ".", o32, o64, o16)
            m32, u8 = postprocess(o32["pred"], shape_hw)
            m64, _ = postprocess(o64["pred"], shape_hw)
            report["fp32_vs_fp64"][name + ".matte"] = stats(m32, m64)
            Image.fromarray(u8, mode="L").save(args.out + "/%s_matte.png" % name)
            # The inputs are the PNG through the same resize and normalisation as the static
            # cases (their sums kept); of the pyramid, the blended top and bottom levels.
            out = {"input_hr_sum": x_hr.double().sum().view(1),
                   "input_lr_sum": x_lr.double().sum().view(1),
                   "d3": o32["d3"], "d0": o32["d0"], "pred": o32["pred"], "matte": m32}
            save_safetensors(args.out + "/%s.safetensors" % name, out,
                             {"blended": str(blended)})
            t = official[0]
            with torch.no_grad():
                lr_d0 = net.forward_inspyre(x_lr)["saliency"][3]
                hr_d3 = net.forward_inspyre(x_hr)["saliency"][0]
                d3 = net.ret(lr_d0, hr_d3)
                report["cases"][name] = {
                    "hr_size_wh": list(hr_wh), "blended": blended,
                    "transition2_fraction": float(net.transition2(d3).mean()),
                    "foreground_fraction": float((m32 > 0.5).double().mean())}
    # The Res2Net50 model at its real base size (384, what the engine and the CLI run it at
    # without options): portrait's 8-bit matte, for the command-line test.
    net = build(official, "res2net50", 384, calibration)
    net64 = to_double(build(official, "res2net50", 384, calibration))
    image = Image.open(args.out + "/portrait.png").convert("RGB")
    x = to_input(pil_resize(image, (384, 384)))
    m32, u8 = postprocess(run_static(net, x, "f32")["pred"], image.size[::-1])
    m64, _ = postprocess(run_static(net64, x, "f64")["pred"], image.size[::-1])
    report["fp32_vs_fp64"]["inspyrenet_res2net50_tiny.384.portrait.matte"] = stats(m32, m64)
    Image.fromarray(u8, mode="L").save(args.out + "/inspyrenet_res2net50_tiny__384_portrait_matte.png")
    with open(args.out + "/inspyrenet_measured.json", "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
