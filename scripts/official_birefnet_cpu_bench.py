#!/usr/bin/python3
"""The official BiRefNet (ZhengPeng7/BiRefNet models/birefnet.py, config.py as published) with the
model card's pre-processing and inference.py's post-processing on the CPU, timed like
`photosynth-cli bench`'s remove_bg stage, for a same-run reference. Full size with random weights
(timing does not depend on them), a synthetic 2048x1536 image as in our bench. Needs Debian's
python3-torch (1.13) and python3-torchvision (its compiled deform_conv2d; the other missing
packages are the stand-ins of scripts/golden/standins), and a clone or bare mirror of the
official code; the loader and the pre/post-processing come from scripts/golden/birefnet_golden.py.

usage: official_birefnet_cpu_bench.py --birefnet DIR [--backbone swin_v1_t|swin_v1_l]
                                      [--size 1024] [--threads 2] [--iterations 3] [--warmup 1]
"""
import argparse, importlib.util, os, resource, statistics, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--birefnet', required=True, help='clone or bare mirror of ZhengPeng7/BiRefNet')
    ap.add_argument('--backbone', default='swin_v1_t', choices=['swin_v1_t', 'swin_v1_l'],
                    help='swin_v1_t: BiRefNet_lite; swin_v1_l: BiRefNet')
    ap.add_argument('--size', type=int, default=1024)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--iterations', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        'birefnet_golden', os.path.join(here, 'golden', 'birefnet_golden.py'))
    golden = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(golden)
    import numpy as np
    import torch
    from PIL import Image
    torch.set_num_threads(args.threads)
    official = golden.load_official(os.path.abspath(args.birefnet), real_torchvision=True)
    import torchvision.ops
    assert 'standins' not in torchvision.ops.__file__, 'the stand-in deform_conv2d would be timed'
    golden.MODE['size'] = args.backbone
    net = official.birefnet.BiRefNet(bb_pretrained=False).eval()
    rng = np.random.default_rng(7)
    image = Image.fromarray(rng.integers(0, 256, size=(1536, 2048, 3), dtype=np.uint8))
    times = {'preprocess': [], 'forward': [], 'postprocess': [], 'remove_bg': []}
    with torch.inference_mode():
        for i in range(args.warmup + args.iterations):
            start = time.perf_counter()
            _, x = golden.preprocess(image, (args.size, args.size))
            pre = time.perf_counter()
            logits = net(x)[-1]
            fwd = time.perf_counter()
            _, matte = golden.postprocess(logits, image.height, image.width)
            post = time.perf_counter()
            assert matte.shape == (1536, 2048)
            if i >= args.warmup:
                for k, v in (('preprocess', pre - start), ('forward', fwd - pre),
                             ('postprocess', post - fwd), ('remove_bg', post - start)):
                    times[k].append(v * 1000)
    for k, v in times.items():
        print(f'{k:12} p50 {statistics.median(v):9.1f} ms  (n={len(v)})')
    print(f'peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB')


if __name__ == '__main__':
    main()
