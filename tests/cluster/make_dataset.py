#!/usr/bin/python3
"""Writes the cluster test's folder: N generated PNGs (a gradient unique to each, so no two share
a hash, and one or two shapes), a corrupt "broken.png", and the point file naming all of them.

usage: make_dataset.py OUT_DIR POINTS.json COUNT [WxH]   (Debian's /usr/bin/python3: numpy, Pillow)
Without WxH the sizes vary from 96x64 to 160x120 (what the cluster test expects, byte for byte);
with it every image is WxH (a benchmark's realistic size, e.g. 1024x1024).
"""
import json
import sys

import numpy as np
from PIL import Image, ImageDraw


def main():
    out_dir, points_path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    size = None
    if len(sys.argv) > 4:
        width_text, _, height_text = sys.argv[4].partition("x")
        size = (int(width_text), int(height_text)) \
            if width_text.isdigit() and height_text.isdigit() else (0, 0)
        if size[0] < 8 or size[1] < 8:
            sys.exit(f"make_dataset.py: size {sys.argv[4]}: expected WxH of at least 8x8")
    points = {}
    for i in range(count):
        width, height = size or (96 + (i * 13) % 65, 64 + (i * 7) % 57)
        y, x = np.mgrid[0:height, 0:width]
        rgb = np.stack([(x * 2 + i * 5) % 256, (y * 3 + i * 11) % 256,
                        np.full_like(x, 60 + i % 100)], axis=-1).astype(np.uint8)
        image = Image.fromarray(rgb)
        draw = ImageDraw.Draw(image)
        objects = []
        shapes = 1 + i % 2
        for k in range(shapes):
            cx, cy = width * (k + 1) // (shapes + 1), height // 2
            r = min(width // (2 * shapes + 2), height // 4)
            colour = ((k * 90 + i * 7) % 256, 255 - k * 70, 200)
            if k == 0:
                draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=colour)
                label = "square"
            else:
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
                label = "disc"
            objects.append({"label": label, "points": [[cx, cy]]})
        name = "img_%03d.png" % i
        image.save(f"{out_dir}/{name}")
        points[name] = objects
    with open(f"{out_dir}/broken.png", "wb") as broken:
        broken.write(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 8)
    points["broken.png"] = [{"label": "square", "points": [[10, 10]]}]
    with open(points_path, "w") as out:
        json.dump({"images": points}, out, indent=1)


if __name__ == "__main__":
    main()
