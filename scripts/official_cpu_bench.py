"""What the official_*_cpu_bench.py scripts share: their common options, the golden generator
module that builds the official network (scripts/golden/<name>.py), the synthetic image of our
bench, and the timing loop with its report, staged like `photosynth-cli bench`'s remove_bg."""
import importlib.util
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def add_timing_options(parser):
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--iterations', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)


def golden_module(name):
    """scripts/golden/<name>.py as a module (its own imports, golden_io, resolved beside it)."""
    golden_dir = os.path.join(HERE, 'golden')
    if golden_dir not in sys.path:
        sys.path.insert(0, golden_dir)
    spec = importlib.util.spec_from_file_location(name, os.path.join(golden_dir, name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthetic_rgb():
    """The 2048x1536 noise image our CPU bench uses (numpy, H x W x 3 uint8, seed 7)."""
    import numpy as np
    return np.random.default_rng(7).integers(0, 256, size=(1536, 2048, 3), dtype=np.uint8)


def time_stages(preprocess, forward, postprocess, warmup, iterations):
    """Runs x = preprocess(), y = forward(x), postprocess(y) warmup + iterations times under
    inference_mode and prints each stage's median and the peak RSS."""
    import torch
    times = {'preprocess': [], 'forward': [], 'postprocess': [], 'remove_bg': []}
    with torch.inference_mode():
        for i in range(warmup + iterations):
            start = time.perf_counter()
            x = preprocess()
            pre = time.perf_counter()
            y = forward(x)
            fwd = time.perf_counter()
            postprocess(y)
            post = time.perf_counter()
            if i >= warmup:
                for k, v in (('preprocess', pre - start), ('forward', fwd - pre),
                             ('postprocess', post - fwd), ('remove_bg', post - start)):
                    times[k].append(v * 1000)
    for k, v in times.items():
        print(f'{k:12} p50 {statistics.median(v):9.1f} ms  (n={len(v)})')
    print(f'peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB')
