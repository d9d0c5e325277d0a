#!/usr/bin/python3
"""The official InSPyReNet (plemeri/InSPyReNet lib/InSPyReNet.py, the class transparent-background
builds) with transparent-background's Remover.process pre- and post-processing on the CPU, timed
like `photosynth-cli bench`'s remove_bg stage, for a same-run reference. Full-size model with
random weights (timing does not depend on them), a synthetic 2048x1536 image as in our bench.
Needs Debian's python3-torch (1.13) and a clone or bare mirror of the official code; the modules
(with the cv2/kornia/timm stand-ins) and the pre/post-processing come from
scripts/golden/inspyrenet_golden.py.

  --arch inspyrenet_swinb --base-size 384    transparent-background's "fast" mode
  --arch inspyrenet_swinb --base-size 1024   its "base" mode
  --arch inspyrenet_res2net50                InSPyReNet_Res2Net50 (384)

Compare with `photosynth-cli bench --model F --synthetic 2048x1536 --device cpu` where F comes
from `photosynth-cli init-checkpoint --arch ARCH --out F` (a file named *fast* runs at 384).

usage: official_inspyrenet_cpu_bench.py --inspyrenet DIR [--arch A] [--base-size N]
                                        [--threads 2] [--iterations 3] [--warmup 1]
"""
import argparse

from official_cpu_bench import add_timing_options, golden_module, synthetic_rgb, time_stages


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--inspyrenet', required=True, help='clone or bare mirror of plemeri/InSPyReNet')
    ap.add_argument('--arch', default='inspyrenet_swinb',
                    choices=['inspyrenet_swinb', 'inspyrenet_res2net50'])
    ap.add_argument('--base-size', type=int, default=384)
    add_timing_options(ap)
    args = ap.parse_args()
    golden = golden_module('inspyrenet_golden')
    import torch
    from PIL import Image
    torch.set_num_threads(args.threads)
    inspyrenet = golden.load_official(args.inspyrenet)[0]
    make = (inspyrenet.InSPyReNet_SwinB if args.arch == 'inspyrenet_swinb'
            else inspyrenet.InSPyReNet_Res2Net50)
    # Remover: InSPyReNet_SwinB(depth=64, pretrained=False, threshold=None, base_size=...).
    base = [args.base_size, args.base_size]
    net = make(depth=64, pretrained=False, base_size=base, threshold=None).eval()
    image = Image.fromarray(synthetic_rgb())
    shape = image.size[::-1]

    def postprocess(pred):
        _, matte = golden.postprocess(pred, shape)  # interpolate, (pred * 255).astype(uint8)
        assert matte.shape[:2] == (1536, 2048)

    time_stages(lambda: golden.to_input(golden.pil_resize(image, tuple(base))),  # Remover.transform
                lambda x: net({'image': x})['pred'], postprocess, args.warmup, args.iterations)


if __name__ == '__main__':
    main()
