#!/usr/bin/python3
"""The official SAM 2.1 predictors on the CPU, timed like scripts/sam2_cpu_bench.sh times ours,
for a same-run reference: SAM2ImagePredictor.set_image at 1024x1024 and SAM2VideoPredictor's
per-frame propagation (one object) on 1024x1024 frames, float32, on our init-checkpoint weights.
Needs Debian's python3-torch (1.13), numpy, Pillow, PyYAML and the official code (not part of
this repository: a clone or bare mirror of github.com/facebookresearch/sam2, or a checkout).

usage: official_sam2_cpu_bench.py --sam2 SRC --model HIERA.safetensors [--threads 2]
           [--iterations 3] [--warmup 1] [--frames 6] [--warmup-frames 1] [--frames-dir DIR]
           [--json OUT.json]
"""
import argparse
import json
import resource
import shutil

import torch

import official_sam2_common as common


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sam2", required=True, help="sam2 clone, bare mirror or checkout")
    ap.add_argument("--model", required=True, help="photosynth-cli init-checkpoint output")
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--frames", type=int, default=6, help="video length (frame 0 prompted)")
    ap.add_argument("--warmup-frames", type=int, default=1, help="tracked frames not counted")
    ap.add_argument("--frames-dir", help="<index>.jpg frames to use (default: synthetic ones)")
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    root = common.load_official(args.sam2)
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    report = {"implementation": "official sam2 @" + common.golden.COMMIT[:7],
              "torch": torch.__version__, "threads": args.threads, "device": "cpu",
              "precision": "fp32", "size": args.size}
    with torch.inference_mode():
        model, letter = common.build(root, args.model, "cpu")
        report["arch"] = "sam2.1_hiera_" + letter
        predictor = SAM2ImagePredictor(model)
        report["image"] = common.time_image(predictor, common.synthetic_image(args.size), "cpu",
                                            args.warmup, args.iterations, click=False)
        del predictor, model
    video, _ = common.build(root, args.model, "cpu", video=True)
    frames = args.frames_dir or common.write_frames(
        common.temporary_folder("sam2_frames_"), args.frames, args.size)
    try:
        report["propagate_1_object"] = common.time_propagation(
            video, frames, args.size, 1, "cpu", args.warmup_frames)
    finally:
        if not args.frames_dir:
            shutil.rmtree(frames)
    report["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
