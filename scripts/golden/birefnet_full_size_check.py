#!/usr/bin/python3
"""Full-size parity spot check of BiRefNet (not golden data: the checkpoints are 177 / 885 MB):
the official BiRefNet built at the published size (swin_v1_t = BiRefNet_lite, swin_v1_l =
BiRefNet) with seeded random weights (re-randomised like the golden ones, conv_out1 scaled so the
matte is not flat), an image through BiRefNet_dynamic's path (its own size rounded down to
multiples of 32, Pillow bicubic, inference.py's post-processing), against `photosynth-cli
remove-bg` on the same weights written as BiRefNet_dynamic-<backbone>.safetensors.

usage: birefnet_full_size_check.py --birefnet DIR --cli build/app/photosynth-cli
                                   [--backbone swin_v1_t|swin_v1_l] [--image PNG] [--work DIR]
"""
import argparse, importlib.util, os, subprocess, tempfile

import numpy as np
import torch
from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--birefnet', required=True, help='clone or bare mirror of ZhengPeng7/BiRefNet')
    ap.add_argument('--cli', required=True, help='photosynth-cli')
    ap.add_argument('--backbone', default='swin_v1_t', choices=['swin_v1_t', 'swin_v1_l'])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument('--image', default=os.path.join(here, '..', '..', 'tests', 'data', 'birefnet', 'square.png'))
    ap.add_argument('--work', default=None)
    args = ap.parse_args()
    cli, image_path = os.path.abspath(args.cli), os.path.abspath(args.image)
    work = os.path.abspath(args.work or tempfile.mkdtemp(prefix='birefnet_full_'))
    spec = importlib.util.spec_from_file_location('birefnet_golden', os.path.join(here, 'birefnet_golden.py'))
    golden = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(golden)
    torch.set_num_threads(2)
    official = golden.load_official(os.path.abspath(args.birefnet))
    golden.MODE['size'] = args.backbone
    torch.manual_seed(5)
    net = golden.randomise(official.birefnet.BiRefNet(bb_pretrained=False), 6)
    image = Image.open(image_path).convert('RGB')
    _, x = golden.preprocess_dynamic(image)
    with torch.no_grad():
        logits = net(x)[-1]
        conv = net.decoder.conv_out1[0]
        scale = golden.OUT_SCALE / float(logits.std())
        conv.weight.mul_(scale)
        conv.bias.sub_(float(logits.mean())).mul_(scale)
        logits = net(x)[-1]
    _, reference = golden.postprocess(logits, image.height, image.width)
    checkpoint = os.path.join(work, 'BiRefNet_dynamic-%s.safetensors' % args.backbone)
    golden.save_safetensors(checkpoint, net.state_dict())
    matte_path = os.path.join(work, 'matte.png')
    subprocess.run([cli, 'remove-bg', '--model', checkpoint, '--image', image_path, '--out',
                    os.path.join(work, 'cutout.png'), '--matte', matte_path, '--device', 'cpu',
                    '--precision', 'fp32'], check=True)
    ours = np.array(Image.open(matte_path)).astype(int)
    diff = np.abs(ours - reference.astype(int))
    print('%s, %dx%d image, input %dx%d: 8-bit matte max |diff| %d levels, %d of %d pixels differ'
          % (args.backbone, image.width, image.height, x.shape[3], x.shape[2], diff.max(),
             int((diff > 0).sum()), diff.size))


if __name__ == '__main__':
    main()
