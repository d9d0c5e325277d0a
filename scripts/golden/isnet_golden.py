#!/usr/bin/python3
"""Golden data for ISNet (DIS's ISNetDIS, rembg's isnet-general-use) from the official code.

Builds xuebinqin/DIS's IS-Net/models/isnet.py unchanged except for its widths (every channel
count that nn.Conv2d and nn.BatchNorm2d receive in that module is divided by 8, the image's 3 and
the output's 1 kept), random weights with a fixed seed, BatchNorm affine parameters and running
statistics randomised, eval mode. Runs IS-Net/Inference.py's pre- and post-processing op for op
(skimage.io.imread -> PIL, torchvision's normalize written out: neither package is installed),
in float32 (the golden), float64 and bfloat16 (to measure tolerances), and writes
tests/data/isnet/. Usage (Debian's python3: torch 1.13, numpy, Pillow):

  /usr/bin/python3 scripts/golden/isnet_golden.py --dis /path/to/DIS --out tests/data/isnet

where /path/to/DIS is a clone (or bare mirror) of https://github.com/xuebinqin/DIS.
"""
import argparse
import json
import subprocess
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from golden_io import save_safetensors, stats

COMMIT = "b6764e20381f6f42a70f83fa3324181529ed1403"
WIDTH_DIVISOR = 8
INPUT_SIZE = [1024, 1024]  # Inference.py's input_size
SEED = 20261206


def load_isnet_module(dis_repo):
    source = subprocess.check_output(
        ["git", "-C", dis_repo, "show", COMMIT + ":IS-Net/models/isnet.py"], text=True)
    # isnet.py imports torchvision.models but never uses it.
    vision = types.ModuleType("torchvision")
    vision.models = types.ModuleType("torchvision.models")
    sys.modules.setdefault("torchvision", vision)
    module = types.ModuleType("isnet")
    exec(compile(source, "IS-Net/models/isnet.py", "exec"), module.__dict__)
    return module


def tiny_nn():
    """torch.nn with Conv2d and BatchNorm2d taking 1/8 of every width (3 and 1 kept)."""
    def width(c):
        return c if c in (1, 3) else c // WIDTH_DIVISOR

    class Conv2d(torch.nn.Conv2d):
        def __init__(self, in_channels, out_channels, *args, **kwargs):
            super().__init__(width(in_channels), width(out_channels), *args, **kwargs)

    class BatchNorm2d(torch.nn.BatchNorm2d):
        def __init__(self, num_features, *args, **kwargs):
            super().__init__(width(num_features), *args, **kwargs)

    proxy = types.SimpleNamespace(**{n: getattr(torch.nn, n) for n in dir(torch.nn)
                                     if not n.startswith("_")})
    proxy.Conv2d, proxy.BatchNorm2d = Conv2d, BatchNorm2d
    return proxy


def build_tiny_isnet(isnet, calibration_input):
    isnet.nn = tiny_nn()  # looked up when ISNetDIS() runs its constructors, not at import
    torch.manual_seed(SEED)
    net = isnet.ISNetDIS()
    generator = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for name, m in net.named_modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                m.bias.copy_(torch.randn(n, generator=generator) * 0.1)
                m.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=generator)))
        # With random weights every side map is nearly flat (logits 0.36 +- 0.02 for side1):
        # each side convolution is scaled by SIDE_SCALE and its bias moved so that its logits
        # average 0 on the calibration input, so d1 spans (0, 1) as a trained model's does and
        # the min-max matte is not amplified rounding noise.
        net.eval()
        _, features = net(calibration_input)
        for k in range(1, 7):
            side = getattr(net, "side%d" % k)
            mean_logit = float(side(features[k - 1]).mean())
            side.weight.mul_(SIDE_SCALE)
            side.bias.sub_(mean_logit).mul_(SIDE_SCALE)
    return net


SIDE_SCALE = 100.0


def normalize(tensor, mean, std):
    # torchvision.transforms.functional.normalize on a float tensor: sub_(mean).div_(std).
    mean = torch.as_tensor(mean, dtype=tensor.dtype).view(-1, 1, 1)
    std = torch.as_tensor(std, dtype=tensor.dtype).view(-1, 1, 1)
    return tensor.sub(mean).div(std)


def preprocess(im):
    """Inference.py: im (H x W x 3 uint8) -> resized uint8 tensor and the network input."""
    im_tensor = torch.tensor(im, dtype=torch.float32).permute(2, 0, 1)
    im_tensor = F.upsample(torch.unsqueeze(im_tensor, 0), INPUT_SIZE, mode="bilinear").type(torch.uint8)
    image = torch.divide(im_tensor, 255.0)
    image = normalize(image, [0.5, 0.5, 0.5], [1.0, 1.0, 1.0])
    return im_tensor, image


def postprocess(d1, im_shp):
    """Inference.py: first side output -> image size -> min-max; the 8-bit matte truncates."""
    result = torch.squeeze(F.upsample(d1, im_shp, mode="bilinear"), 0)
    ma, mi = torch.max(result), torch.min(result)
    result = (result - mi) / (ma - mi)
    u8 = (result * 255).permute(1, 2, 0).cpu().data.numpy().astype(np.uint8)
    return result, u8


def make_images(shared_images):
    """Two crops of the shared golden images (upsampled to 1024) and a synthetic 1280 x 720
    (downsampled: F.upsample has no antialiasing, which the native code must reproduce)."""
    landscape = np.array(Image.open(shared_images + "/u2net_input.png").convert("RGB"))[60:190, 120:320]
    portrait = np.array(Image.open(shared_images + "/astronaut_crop.png").convert("RGB"))[40:200, 100:196]
    y, x = np.mgrid[0:720, 0:1280].astype(np.float64)
    large = np.stack([x / 1279 * 255, y / 719 * 255, 128 + 100 * np.sin(x / 37.0) * np.cos(y / 23.0)], -1)
    large[(x - 700) ** 2 + (y - 380) ** 2 < 230 ** 2] = [240, 30, 60]
    large[300:330, 100:1100] = [10, 200, 40]
    return {"landscape": landscape, "portrait": portrait, "large": large.round().clip(0, 255).astype(np.uint8)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dis", required=True, help="clone or bare mirror of xuebinqin/DIS")
    parser.add_argument("--shared-images", default="../shared/golden/images")
    parser.add_argument("--out", default="tests/data/isnet")
    args = parser.parse_args()
    torch.set_num_threads(1)
    isnet = load_isnet_module(args.dis)
    images = make_images(args.shared_images)
    for case, im in images.items():
        Image.fromarray(im).save(args.out + "/%s.png" % case)
    calibration = preprocess(np.array(Image.open(args.out + "/landscape.png").convert("RGB")))[1]
    net = build_tiny_isnet(isnet, calibration)
    torch.save(net.state_dict(), args.out + "/isnet_tiny.pth")
    net64 = build_tiny_isnet(isnet, calibration).double()
    net16 = build_tiny_isnet(isnet, calibration).to(torch.bfloat16)
    report = {"upstream": "xuebinqin/DIS@" + COMMIT, "width_divisor": WIDTH_DIVISOR,
              "side_scale": SIDE_SCALE, "seed": SEED, "fp32_vs_fp64": {}, "bf16_vs_fp64": {}}

    # The network alone on a small odd-sized input: every side output, full.
    torch.manual_seed(SEED + 2)
    x = torch.randn(1, 3, 88, 136) * 0.5
    with torch.no_grad():
        sides32, _ = net(x)
        sides64, _ = net64(x.double())
        sides16, _ = net16(x.to(torch.bfloat16))
    tensors = {"input": x}
    for k in range(6):
        name = "d%d" % (k + 1)
        tensors[name] = sides32[k]
        report["fp32_vs_fp64"]["network." + name] = stats(sides32[k], sides64[k])
        report["bf16_vs_fp64"]["network." + name] = stats(sides16[k].float(), sides64[k])
    save_safetensors(args.out + "/isnet_tiny__network.safetensors", tensors)

    cases = {}
    for case in images:
        im = np.array(Image.open(args.out + "/%s.png" % case).convert("RGB"))
        im_shp = im.shape[0:2]
        resized, image = preprocess(im)
        with torch.no_grad():
            d1_32 = net(image)[0][0]
            d1_64 = net64(image.double())[0][0]
            d1_16 = net16(image.to(torch.bfloat16))[0][0].float()
        matte32, u8 = postprocess(d1_32, im_shp)
        matte64, _ = postprocess(d1_64, im_shp)
        matte16, u8_16 = postprocess(d1_16, im_shp)
        Image.fromarray(u8[:, :, 0], mode="L").save(args.out + "/isnet_tiny__%s_matte.png" % case)
        out = {"resized_sum": resized.to(torch.int64).sum().view(1),
               "resized_sub": resized[0, :, ::8, ::8].permute(1, 2, 0).contiguous(),
               "d1_sub": d1_32[:, :, ::8, ::8].contiguous(),
               "d1_stats": torch.stack([d1_32.min(), d1_32.max(), d1_32.double().mean().float()])}
        if im.shape[0] * im.shape[1] <= 200 * 200:
            out["matte"] = matte32.contiguous()
        save_safetensors(args.out + "/isnet_tiny__%s.safetensors" % case, out)
        report["fp32_vs_fp64"][case + ".d1"] = stats(d1_32, d1_64)
        report["fp32_vs_fp64"][case + ".matte"] = stats(matte32, matte64)
        report["bf16_vs_fp64"][case + ".d1"] = stats(d1_16, d1_64)
        report["bf16_vs_fp64"][case + ".matte"] = stats(matte16, matte64)
        report["bf16_vs_fp64"][case + ".matte_u8"] = stats(torch.from_numpy(u8_16).double() / 255,
                                                           torch.from_numpy(u8).double() / 255)
        cases[case] = {"size_wh": [int(im.shape[1]), int(im.shape[0])],
                       "d1_min_max_mean": [float(v) for v in out["d1_stats"]],
                       "matte_foreground_fraction": float((matte32 > 0.5).double().mean())}
    report["cases"] = cases
    with open(args.out + "/isnet_measured.json", "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
