#!/usr/bin/python3
"""The official ISNet (xuebinqin/DIS IS-Net/models/isnet.py, Inference.py's pre- and
post-processing) on the CPU, timed like `photosynth-cli bench`'s remove_bg stage, for a same-run
reference. Full-size ISNetDIS with random weights (timing does not depend on them), a synthetic
2048x1536 image as in our bench. Needs Debian's python3-torch (1.13) and a clone or bare mirror of
the official code; the module and the pre/post-processing come from scripts/golden/isnet_golden.py.

usage: official_isnet_cpu_bench.py --dis DIR [--threads 2] [--iterations 3] [--warmup 1]
"""
import argparse

from official_cpu_bench import add_timing_options, golden_module, synthetic_rgb, time_stages


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dis', required=True, help='clone or bare mirror of xuebinqin/DIS')
    add_timing_options(ap)
    args = ap.parse_args()
    golden = golden_module('isnet_golden')
    import torch
    torch.set_num_threads(args.threads)
    net = golden.load_isnet_module(args.dis).ISNetDIS().eval()
    image = synthetic_rgb()

    def postprocess(d1):
        _, matte = golden.postprocess(d1, list(image.shape[:2]))
        assert matte.shape[:2] == (1536, 2048)

    time_stages(lambda: golden.preprocess(image)[1], lambda x: net(x)[0][0], postprocess,
                args.warmup, args.iterations)


if __name__ == '__main__':
    main()
