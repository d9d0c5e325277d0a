#!/usr/bin/python3
"""The official segment-anything predictor on the CPU, timed like `photosynth-cli bench`, for a
same-run reference. Needs Debian's python3-torch (1.13) and a checkout of the official code
(github.com/facebookresearch/segment-anything); nothing of it is in this repository.

usage: official_sam_cpu_bench.py --sam-src DIR [--arch vit_b] [--threads 2] [--iterations 3]
                                 [--json OUT.json]
Random weights (timing does not depend on them), a synthetic 2048x1536 image as in our bench.
"""
import argparse, json, resource, statistics, sys, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sam-src', required=True, help='folder that contains segment_anything/')
    ap.add_argument('--arch', default='vit_b', choices=['vit_b', 'vit_l', 'vit_h'])
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--iterations', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--json')
    args = ap.parse_args()
    sys.path.insert(0, args.sam_src)
    import numpy as np
    import torch
    from segment_anything import SamPredictor, sam_model_registry
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, size=(1536, 2048, 3), dtype=np.uint8)
    with torch.inference_mode():
        predictor = SamPredictor(sam_model_registry[args.arch]().eval())
        encode, click = [], []
        for i in range(args.warmup + args.iterations):
            start = time.perf_counter()
            predictor.set_image(image)  # resize, normalise, pad, image encoder
            encoded = time.perf_counter()
            point = np.array([[rng.uniform(0.3, 0.7) * 2048, rng.uniform(0.3, 0.7) * 1536]])
            masks, _, _ = predictor.predict(point_coords=point, point_labels=np.array([1]),
                                            multimask_output=True)  # 3 masks at 2048x1536
            clicked = time.perf_counter()
            assert masks.shape == (3, 1536, 2048)
            if i >= args.warmup:
                encode.append((encoded - start) * 1e3)
                click.append((clicked - encoded) * 1e3)
    report = {'implementation': 'official segment-anything', 'torch': torch.__version__,
              'threads': args.threads, 'arch': args.arch,
              'set_image_ms_p50': statistics.median(encode), 'set_image_ms': encode,
              'click_ms_p50': statistics.median(click), 'click_ms': click,
              'peak_rss_bytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    print(json.dumps(report))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=1)


if __name__ == '__main__':
    main()
