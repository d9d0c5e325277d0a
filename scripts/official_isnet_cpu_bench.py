#!/usr/bin/python3
"""The official ISNet (xuebinqin/DIS IS-Net/models/isnet.py, Inference.py's pre- and
post-processing) on the CPU, timed like `photosynth-cli bench`'s remove_bg stage, for a same-run
reference. Full-size ISNetDIS with random weights (timing does not depend on them), a synthetic
2048x1536 image as in our bench. Needs Debian's python3-torch (1.13) and a clone or bare mirror of
the official code; the module and the pre/post-processing come from scripts/golden/isnet_golden.py.

usage: official_isnet_cpu_bench.py --dis DIR [--threads 2] [--iterations 3] [--warmup 1]
"""
import argparse, importlib.util, os, resource, statistics, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dis', required=True, help='clone or bare mirror of xuebinqin/DIS')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--iterations', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location('isnet_golden',
                                                  os.path.join(here, 'golden', 'isnet_golden.py'))
    golden = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(golden)
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    isnet = golden.load_isnet_module(args.dis)
    net = isnet.ISNetDIS().eval()
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, size=(1536, 2048, 3), dtype=np.uint8)
    times = {'preprocess': [], 'forward': [], 'postprocess': [], 'remove_bg': []}
    with torch.inference_mode():
        for i in range(args.warmup + args.iterations):
            start = time.perf_counter()
            _, x = golden.preprocess(image)
            pre = time.perf_counter()
            d1 = net(x)[0][0]
            fwd = time.perf_counter()
            _, matte = golden.postprocess(d1, list(image.shape[:2]))
            post = time.perf_counter()
            assert matte.shape[:2] == (1536, 2048)
            if i >= args.warmup:
                for k, v in (('preprocess', pre - start), ('forward', fwd - pre),
                             ('postprocess', post - fwd), ('remove_bg', post - start)):
                    times[k].append(v * 1000)
    for k, v in times.items():
        print(f'{k:12} p50 {statistics.median(v):9.1f} ms  (n={len(v)})')
    print(f'peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB')


if __name__ == '__main__':
    main()
