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
import argparse, os

from official_cpu_bench import add_timing_options, golden_module, synthetic_rgb, time_stages


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--birefnet', required=True, help='clone or bare mirror of ZhengPeng7/BiRefNet')
    ap.add_argument('--backbone', default='swin_v1_t', choices=['swin_v1_t', 'swin_v1_l'],
                    help='swin_v1_t: BiRefNet_lite; swin_v1_l: BiRefNet')
    ap.add_argument('--size', type=int, default=1024)
    add_timing_options(ap)
    args = ap.parse_args()
    golden = golden_module('birefnet_golden')
    import torch
    from PIL import Image
    torch.set_num_threads(args.threads)
    official = golden.load_official(os.path.abspath(args.birefnet), real_torchvision=True)
    import torchvision.ops
    assert 'standins' not in torchvision.ops.__file__, 'the stand-in deform_conv2d would be timed'
    golden.MODE['size'] = args.backbone
    net = official.birefnet.BiRefNet(bb_pretrained=False).eval()
    image = Image.fromarray(synthetic_rgb())

    def postprocess(logits):
        _, matte = golden.postprocess(logits, image.height, image.width)
        assert matte.shape == (1536, 2048)

    time_stages(lambda: golden.preprocess(image, (args.size, args.size))[1],
                lambda x: net(x)[-1], postprocess, args.warmup, args.iterations)


if __name__ == '__main__':
    main()
