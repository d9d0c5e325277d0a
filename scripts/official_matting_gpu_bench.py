#!/usr/bin/env python3
"""The official background-removal models on CUDA, each with its own published inference recipe,
timed like `photosynth-cli bench`'s remove_bg stage (a synthetic RGB image, 2048x1536 unless
--image says otherwise, the 8-bit matte on the host), for same-run ratios on the GPU machine (PyTorch 2.x with torchvision and timm;
einops, kornia, huggingface_hub come from scripts/golden/standins where missing). Full-size models
with random weights: timing does not depend on them.

  birefnet, birefnet_lite   BiRefNet (Swin-L / Swin-T) as its model card runs it: fp32 matmul
                            precision 'high', model.half(), torchvision Resize((1024, 1024)) +
                            ToTensor + Normalize on the PIL image, model(x.half())[-1].sigmoid()
                            .cpu(), ToPILImage, PIL resize back to the image size.
  birefnet_autocast         BiRefNet (Swin-L) as inference.py runs it: bf16 autocast.
  isnet                     DIS IS-Net/Inference.py (fp32; resize on the CPU, as it does).
  inspyrenet_base, _fast    transparent-background's Remover.process (fp32; static resize to 1024
                            or 384; interpolate back with align_corners=True, (pred*255) to uint8).

usage: official_matting_gpu_bench.py --model NAME [--birefnet DIR] [--dis DIR]
       [--inspyrenet DIR] [--iterations 20] [--warmup 3] [--batch 8]
DIR: a source tree (at least the files the models import) or a bare git mirror of
ZhengPeng7/BiRefNet, xuebinqin/DIS, plemeri/InSPyReNet at the commits of scripts/golden.
Prints p50 of each stage, images/s at --batch (forward only, the recipe's precision) and the
peak VRAM (torch.cuda.max_memory_allocated).
"""
import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
STANDINS = os.path.join(HERE, "golden", "standins")


def source_tree(path):
    """A checkout, or a folder of the needed files exported at the golden scripts' commits (the GPU
    machine has no network and no mirrors): used as it is. A bare git mirror is exported to a
    temporary folder."""
    # Absolute: load_birefnet changes the working directory before it imports from the tree.
    path = os.path.abspath(path)
    if not os.path.exists(os.path.join(path, "HEAD")) or os.path.exists(os.path.join(path, ".git")):
        return path
    out = tempfile.mkdtemp(prefix="official_")
    archive = subprocess.check_output(["git", "-C", path, "archive", "HEAD"])
    subprocess.run(["tar", "-x", "-C", out], input=archive, check=True)
    return out


def load_isnet(path):
    """As isnet_golden.load_isnet_module, from IS-Net/models/isnet.py in a folder."""
    with open(os.path.join(source_tree(path), "IS-Net", "models", "isnet.py")) as f:
        source = f.read()
    module = types.ModuleType("isnet")
    exec(compile(source, "IS-Net/models/isnet.py", "exec"), module.__dict__)
    return module


def load_inspyrenet(path):
    """As inspyrenet_golden.load_official, from lib/ and utils/ in a folder (stand-ins after the
    real packages)."""
    sys.path.insert(0, source_tree(path))
    sys.path.append(STANDINS)
    import lib.InSPyReNet as inspyrenet
    return inspyrenet


def golden_module(name):
    golden_dir = os.path.join(HERE, "golden")
    if golden_dir not in sys.path:
        sys.path.insert(0, golden_dir)  # the generators import golden_io from beside them
    spec = importlib.util.spec_from_file_location(name, os.path.join(golden_dir, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_birefnet(repo, backbone):
    src = source_tree(repo)
    os.chdir(tempfile.mkdtemp(prefix="birefnet_cwd_"))  # config.py looks for ./train.sh
    sys.path.insert(0, src)
    sys.path.append(STANDINS)  # real packages first; stand-ins only for what is missing
    sys.modules["dataset"] = types.SimpleNamespace(class_labels_TR_sorted=[])
    import config as config_module
    published = config_module.Config.__init__

    def init(self):
        published(self)
        self.bb = backbone
        self.lateral_channels_in_collection = {
            "swin_v1_l": [3072, 1536, 768, 384], "swin_v1_t": [1536, 768, 384, 192]}[backbone]
        self.cxt = self.lateral_channels_in_collection[1:][::-1][-self.cxt_num:] if self.cxt_num else []

    config_module.Config.__init__ = init
    from models.birefnet import BiRefNet
    return BiRefNet(bb_pretrained=False)


def timed(fn, iterations, warmup):
    import torch
    stages = {}
    for i in range(warmup + iterations):
        torch.cuda.synchronize()
        marks = fn()
        if i >= warmup:
            for name, ms in marks.items():
                stages.setdefault(name, []).append(ms)
    return {name: statistics.median(v) for name, v in stages.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True,
                    choices=["birefnet", "birefnet_lite", "birefnet_autocast", "isnet",
                             "inspyrenet_base", "inspyrenet_fast"])
    ap.add_argument("--birefnet")
    ap.add_argument("--dis")
    ap.add_argument("--inspyrenet")
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--image", default="2048x1536", help="synthetic image size, WxH")
    args = ap.parse_args()
    width, height = (int(v) for v in args.image.split("x"))

    import numpy as np
    import torch
    import torch.nn.functional as F
    from PIL import Image

    rng = np.random.default_rng(7)
    array = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    pil = Image.fromarray(array)
    now = time.perf_counter

    def ms(a, b):
        return (b - a) * 1000.0

    if args.model.startswith("birefnet"):
        from torchvision import transforms
        net = load_birefnet(args.birefnet, "swin_v1_t" if args.model == "birefnet_lite" else "swin_v1_l")
        torch.set_float32_matmul_precision("high")
        autocast = args.model == "birefnet_autocast"
        net = net.eval().cuda()
        if not autocast:
            net = net.half()
        dtype = torch.float16
        transform = transforms.Compose([transforms.Resize((1024, 1024)), transforms.ToTensor(),
                                        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])

        def forward(x):
            if autocast:
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    return net(x)[-1].sigmoid().float()
            return net(x.half())[-1].sigmoid()

        def one():
            t0 = now()
            x = transform(pil).unsqueeze(0).to("cuda")
            torch.cuda.synchronize()
            t1 = now()
            with torch.no_grad():
                pred = forward(x)
            torch.cuda.synchronize()
            t2 = now()
            matte = transforms.ToPILImage()(pred[0].squeeze().cpu()).resize(pil.size)
            t3 = now()
            assert matte.size == pil.size
            return {"preprocess": ms(t0, t1), "forward": ms(t1, t2), "postprocess": ms(t2, t3),
                    "remove_bg": ms(t0, t3)}

        def batch_input():
            return torch.randn(args.batch, 3, 1024, 1024, device="cuda")
    elif args.model == "isnet":
        golden = golden_module("isnet_golden")
        net = load_isnet(args.dis).ISNetDIS().eval().cuda()
        dtype = torch.float32

        def forward(x):
            return net(x)[0][0]

        def one():
            t0 = now()
            _, x = golden.preprocess(array)  # on the CPU, as Inference.py
            x = x.cuda()
            torch.cuda.synchronize()
            t1 = now()
            with torch.no_grad():
                d1 = forward(x)
            torch.cuda.synchronize()
            t2 = now()
            _, matte = golden.postprocess(d1, list(array.shape[:2]))
            t3 = now()
            assert matte.shape[:2] == (height, width)
            return {"preprocess": ms(t0, t1), "forward": ms(t1, t2), "postprocess": ms(t2, t3),
                    "remove_bg": ms(t0, t3)}

        def batch_input():
            return torch.randn(args.batch, 3, 1024, 1024, device="cuda")
    else:
        golden = golden_module("inspyrenet_golden")
        base = 1024 if args.model == "inspyrenet_base" else 384
        module = load_inspyrenet(args.inspyrenet)
        net = module.InSPyReNet_SwinB(depth=64, pretrained=False, base_size=[base, base],
                                      threshold=None).eval().cuda()
        dtype = torch.float32

        def forward(x):
            return net({"image": x})["pred"]

        def one():
            t0 = now()
            x = golden.to_input(golden.pil_resize(pil, (base, base))).cuda()
            torch.cuda.synchronize()
            t1 = now()
            with torch.no_grad():
                pred = forward(x)
            torch.cuda.synchronize()
            t2 = now()
            pred = F.interpolate(pred, (height, width), mode="bilinear", align_corners=True)
            matte = (pred.data.cpu().numpy().squeeze() * 255).astype(np.uint8)
            t3 = now()
            assert matte.shape == (height, width)
            return {"preprocess": ms(t0, t1), "forward": ms(t1, t2), "postprocess": ms(t2, t3),
                    "remove_bg": ms(t0, t3)}

        def batch_input():
            return torch.randn(args.batch, 3, base, base, device="cuda")

    torch.cuda.reset_peak_memory_stats()
    p50 = timed(one, args.iterations, args.warmup)
    peak = torch.cuda.max_memory_allocated()
    print(f"{args.model} on {torch.cuda.get_device_name()}, torch {torch.__version__}")
    for name in ("preprocess", "forward", "postprocess", "remove_bg"):
        print(f"  {name:12} p50 {p50[name]:9.2f} ms")
    print(f"  peak VRAM {peak / 2**20:.0f} MiB")
    if args.batch > 1:
        x = batch_input()
        if dtype == torch.float16 and args.model != "birefnet_autocast":
            x = x.half()

        def batched():
            t0 = now()
            with torch.no_grad():
                forward(x)
            torch.cuda.synchronize()
            return {"batch": ms(t0, now())}

        b = timed(batched, max(5, args.iterations // 2), 2)["batch"]
        print(f"  batch {args.batch} forward p50 {b:.2f} ms = {args.batch * 1000 / b:.1f} images/s"
              f", peak VRAM {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
