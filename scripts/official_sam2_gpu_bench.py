#!/usr/bin/env python3
"""The official SAM 2.1 predictors on CUDA as its README runs them (torch.inference_mode, bf16
autocast; TF32 matmuls on, as its notebooks set), for same-run ratios with `photosynth-cli bench`
on the GPU machine (PyTorch 2.x; hydra, iopath and torchvision.transforms come from
scripts/golden/standins where missing). Random weights from our `init-checkpoint` files (the
published key names): timing does not depend on them.

  video   SAM2VideoPredictor (build_sam2_video_predictor's overrides) per tracked frame of
          propagate_in_video on synthetic 1024x1024 JPEG frames, one click per object on frame 0,
          with 1 and with 3 objects; each frame from the previous frame's masks to its own on the
          host. --vos-optimized adds its SAM2VideoPredictorVOS (torch.compile'd image encoder,
          memory attention, memory encoder and decoder; the compilation falls in the warm-up
          frames, which it needs more of).
  image   SAM2ImagePredictor.set_image on a 1024x1024 image and one click -> 3 masks at the image
          size on the host (predict returns numpy).

usage: official_sam2_gpu_bench.py --sam2 SRC --video-model CKPT [--video-model CKPT...]
           --image-model CKPT [--device cuda|cpu] [--objects 1,3] [--frames 24]
           [--warmup-frames 3] [--vos-optimized [--vos-only]] [--vos-warmup-frames 12] [--iterations 20]
           [--warmup 3] [--json OUT.json]
SRC: a checkout of facebookresearch/sam2 at scripts/golden/sam2_golden.py's COMMIT (the GPU
machine has no network: `git -C MIRROR archive COMMIT sam2 | tar -x -C DIR`), or a clone / bare
mirror holding it. --device cpu is a smoke test (float32, no autocast), not a reference.
Prints medians as JSON.
"""
import argparse
import contextlib
import json
import shutil

import torch

import official_sam2_common as common


def precision_context(device):
    if device == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def bench_video(root, checkpoint, args, vos_optimized):
    predictor, letter = common.build(root, checkpoint, args.device, video=True,
                                     vos_optimized=vos_optimized)
    warmup = args.vos_warmup_frames if vos_optimized else args.warmup_frames
    frames = common.write_frames(common.temporary_folder("sam2_frames_"),
                                 args.frames + warmup, args.size)
    out = {"arch": "sam2.1_hiera_" + letter, "vos_optimized": vos_optimized,
           "warmup_frames": warmup}
    try:
        for objects in args.objects:
            if args.device == "cuda":
                torch.cuda.reset_peak_memory_stats()
            with torch.inference_mode(), precision_context(args.device):
                timing = common.time_propagation(predictor, frames, args.size, objects,
                                                 args.device, warmup)
            if args.device == "cuda":
                timing["peak_vram_bytes"] = torch.cuda.max_memory_allocated()
            out["propagate_%d_objects" % objects] = timing
    finally:
        shutil.rmtree(frames)
    return out


def bench_image(root, checkpoint, args):
    from sam2.sam2_image_predictor import SAM2ImagePredictor
    model, letter = common.build(root, checkpoint, args.device)
    with torch.inference_mode(), precision_context(args.device):
        timing = common.time_image(SAM2ImagePredictor(model), common.synthetic_image(args.size),
                                   args.device, args.warmup, args.iterations)
    return dict(timing, arch="sam2.1_hiera_" + letter)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sam2", required=True, help="sam2 checkout at COMMIT, clone or bare mirror")
    ap.add_argument("--video-model", action="append", default=[])
    ap.add_argument("--image-model")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--objects", default="1,3")
    ap.add_argument("--frames", type=int, default=24, help="timed tracked frames")
    ap.add_argument("--warmup-frames", type=int, default=3)
    ap.add_argument("--vos-optimized", action="store_true")
    ap.add_argument("--vos-only", action="store_true",
                    help="with --vos-optimized: its compiled mode alone (a call of its own)")
    ap.add_argument("--vos-warmup-frames", type=int, default=12)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()
    args.objects = [int(n) for n in args.objects.split(",")]
    if args.device == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("official_sam2_gpu_bench: no CUDA device (use --device cpu for a smoke test)")
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    root = common.load_official(args.sam2)
    report = {"implementation": "official sam2 @" + common.golden.COMMIT[:7],
              "torch": torch.__version__, "device": args.device,
              "gpu": torch.cuda.get_device_name() if args.device == "cuda" else None,
              "precision": "bf16 autocast" if args.device == "cuda" else "fp32",
              "size": args.size, "video": [], "image": None}
    for checkpoint in args.video_model:
        if not (args.vos_optimized and args.vos_only):
            report["video"].append(bench_video(root, checkpoint, args, False))
        if args.vos_optimized:
            report["video"].append(bench_video(root, checkpoint, args, True))
    if args.image_model:
        report["image"] = bench_image(root, args.image_model, args)
    print(json.dumps(report, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
