#!/usr/bin/env python3
"""Regenerates the fuzz seed corpora (fuzz/corpus/<target>/) from small real files: the golden
hostile checkpoints and their data.pkl, the golden images downscaled to 16 px (PNG written here,
JPEG through cjpeg), the golden PROMPTS.json files and hand-written POINTS.json, annotation, COCO
and LabelMe files. Needs `convert FILE.png ppm:-` (ImageMagick) and `cjpeg` (libjpeg-turbo-progs).

    scripts/fuzz_seeds.py [--golden DIR]
"""
import argparse
import base64
import json
import os
import pathlib
import shutil
import struct
import subprocess
import zipfile
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def fresh(target):
    folder = CORPUS / target
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def read_ppm(path):
    data = subprocess.run(["convert", str(path), "ppm:-"], check=True, capture_output=True).stdout
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval, separated by white space
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P6" and fields[3] == b"255", fields
    width, height = int(fields[1]), int(fields[2])
    pixels = data[pos + 1:pos + 1 + width * height * 3]
    return width, height, pixels


def downscale(width, height, pixels, size):
    """Nearest-neighbour to size x size: the seeds need valid structure, not pretty pictures."""
    out = bytearray()
    for y in range(size):
        row = (y * height // size) * width
        for x in range(size):
            i = (row + x * width // size) * 3
            out += pixels[i:i + 3]
    return bytes(out)


def png(width, height, colour_type, bit_depth, rows, interlace=0):
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, interlace)
    raw = b"".join(b"\0" + row for row in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def image_seeds(golden):
    folder = fresh("image")
    size = 16
    for name in ("astronaut_crop", "coffee"):
        width, height, pixels = read_ppm(golden / "images" / f"{name}.png")
        rgb = downscale(width, height, pixels, size)
        rows = [rgb[y * size * 3:(y + 1) * size * 3] for y in range(size)]
        (folder / f"{name}_rgb.png").write_bytes(png(size, size, 2, 8, rows))
        grey = [bytes(row[i] for i in range(0, len(row), 3)) for row in rows]
        (folder / f"{name}_grey.png").write_bytes(png(size, size, 0, 8, grey))
        rgba = [b"".join(row[i:i + 3] + bytes([i * 8 % 256]) for i in range(0, len(row), 3))
                for row in rows]
        (folder / f"{name}_rgba.png").write_bytes(png(size, size, 6, 8, rgba))
        rgb16 = [b"".join(bytes([v, v]) for v in row) for row in rows]
        (folder / f"{name}_rgb16.png").write_bytes(png(size, size, 2, 16, rgb16))
        ppm = b"P6\n%d %d\n255\n" % (size, size) + rgb
        for variant, flags in (("baseline", []), ("progressive", ["-progressive"]),
                               ("grey", ["-grayscale"]), ("restart", ["-restart", "1"])):
            jpeg = subprocess.run(["cjpeg", "-quality", "75", *flags], input=ppm, check=True,
                                  capture_output=True).stdout
            (folder / f"{name}_{variant}.jpg").write_bytes(jpeg)
    width, height, pixels = read_ppm(golden / "images" / "coffee.png")
    rows = [downscale(width, height, pixels, size)[y * size * 3:(y + 1) * size * 3]
            for y in range(size)]
    (folder / "coffee_interlaced.png").write_bytes(png(size, size, 2, 8, rows, interlace=1))


def checkpoint_seeds(golden):
    hostile = golden / "hostile"
    zips = fresh("torch_zip")
    pickles = fresh("pickle")
    for path in sorted(hostile.glob("*.pth")):
        if path.stat().st_size == 0 or path.name == "random_bytes.pth":
            continue  # nothing a mutation of the others does not reach
        shutil.copy(path, zips / path.name)
        try:
            with zipfile.ZipFile(path) as archive:
                for entry in archive.namelist():
                    if entry.endswith("data.pkl"):
                        (pickles / (path.stem + ".pkl")).write_bytes(archive.read(entry))
        except zipfile.BadZipFile:
            pass
    # A real model's data.pkl: hundreds of tensors, nested names, every opcode a state dict uses.
    with zipfile.ZipFile(golden / "sam_vit_tiny.pth") as archive:
        name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
        (pickles / "sam_vit_tiny.pkl").write_bytes(archive.read(name))

    tensors = fresh("safetensors")
    for path in sorted(hostile.glob("*.safetensors")):
        shutil.copy(path, tensors / path.name)
    header = {"__metadata__": {"format": "pt"},
              "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
              "b": {"dtype": "I64", "shape": [1], "data_offsets": [16, 24]},
              "empty": {"dtype": "BF16", "shape": [0, 3], "data_offsets": [24, 24]}}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    (tensors / "metadata_and_empty.safetensors").write_bytes(
        struct.pack("<Q", len(text)) + text + bytes(range(24)))


def json_seeds(golden):
    folder = fresh("json")
    for path in sorted((golden / "images").glob("*_prompts.json")):
        shutil.copy(path, folder / path.name)
    points = {"images": {
        "a.png": [{"label": "cat", "points": [[10, 12], [3, 4, 0], {"x": 5, "y": 6, "label": 1}],
                   "box": [1, 2, 30, 40]}],
        "sub/b.jpg": [{"label": "dog", "box": [0, 0, 8, 8]}, {"label": "dog", "points": [[1, 1]]}]}}
    (folder / "POINTS.json").write_text(json.dumps(points, indent=1))
    annotation = {
        "schema": "photosynth-annotation/1", "image": "a.png", "width": 4, "height": 3,
        "status": "in_progress", "next_object_id": 3,
        "objects": [
            {"id": 1, "label": "cat", "mask": {"size": [3, 4], "counts": [2, 4, 6]},
             "bbox": [0, 0, 2, 3], "prompts": {"points": [[1, 1, 1], [3, 2, 0]],
                                              "box": [0, 0, 2, 3]},
             "model": "sam_vit_b", "predicted_iou": 0.9, "verified": True, "hidden": False},
            {"id": 2, "label": "dog", "mask": {"size": [3, 4], "counts": "52"},
             "prompts": None}]}
    (folder / "annotation.json").write_text(json.dumps(annotation, indent=1))
    labels = {"labels": [{"name": "cat", "colour": "#ff8000", "hotkey": "1"},
                         {"name": "dog", "colour": [0, 128, 255]}]}
    (folder / "labels.json").write_text(json.dumps(labels))


# The importer targets' scratch project (fuzz/scratch_project.cpp): a.png 8x6, sub/a.png 3x4,
# sub/b.png 5x5, broken.png (unreadable; its annotation says 7x7); labels cat and dog.
def rle_counts(width, height, inside):
    """COCO's uncompressed counts (column-major, background first) of the pixels inside(x, y)."""
    counts, current, run = [], False, 0
    for x in range(width):
        for y in range(height):
            if inside(x, y) != current:
                counts.append(run)
                current, run = not current, 0
            run += 1
    return counts + [run]


def rle_string(counts):
    """pycocotools' rleToString: LEB128-like, 5 bits a character, deltas from the 3rd count on."""
    out = []
    for i, count in enumerate(counts):
        x = count - counts[i - 2] if i > 2 else count
        more = True
        while more:
            c = x & 0x1f
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            out.append(chr((c | 0x20 if more else c) + 48))
    return "".join(out)


def coco_seeds():
    folder = fresh("coco")
    cats = [{"id": 1, "name": "cat", "supercategory": ""}, {"id": 2, "name": "bird"}]
    a = {"id": 1, "file_name": "a.png", "width": 8, "height": 6}
    b = {"id": 2, "file_name": "b.png", "width": 5, "height": 5}  # by base name: sub/b.png
    box = rle_counts(8, 6, lambda x, y: 2 <= x <= 4 and 1 <= y <= 3)
    ring = rle_counts(5, 5, lambda x, y: 0 < x < 4 and 0 < y < 4 and (x, y) != (2, 2))

    def write(name, images, annotations, categories=cats):
        (folder / name).write_text(json.dumps(
            {"images": images, "annotations": annotations, "categories": categories}))

    def ann(i, image_id, category_id, segmentation, **extra):
        return dict({"id": i, "image_id": image_id, "category_id": category_id,
                     "segmentation": segmentation, "area": 1, "bbox": [0, 0, 1, 1],
                     "iscrowd": 0}, **extra)

    write("polygon.json", [a], [ann(1, 1, 1, [[1, 1, 6, 1, 6, 4, 1, 4]]),
                                ann(2, 1, 2, [[0, 0, 3, 0, 0, 3], [5, 5, 7.5, 5, 7.5, 5.9]])])
    write("rle_counts.json", [a, b], [ann(1, 1, 1, {"size": [6, 8], "counts": box}, iscrowd=1),
                                      ann(2, 2, 2, {"size": [5, 5], "counts": ring}, iscrowd=1)])
    write("rle_string.json", [a, b],
          [ann(1, 1, 2, {"size": [6, 8], "counts": rle_string(box)}),
           ann(2, 2, 1, {"size": [5, 5], "counts": rle_string(ring)})])
    write("bad_ids.json", [a], [ann(1, 1, 99, [[1, 1, 6, 1, 6, 4]]),   # no such category
                                ann(2, 42, 1, [[1, 1, 6, 1, 6, 4]]),   # no such image
                                ann(3, 1, 1, [[1, 1, 6, 1, 6, 4]])])
    write("bad_segmentations.json", [a, b], [
        ann(1, 1, 1, [[1, 1, 6, 1]]),                                  # under 3 points
        ann(2, 1, 1, [[1, 1, 6, 1, 6, "x"]]),
        ann(3, 1, 1, [[-1e12, 0, 6, 1, 6, 4]]),                        # far outside
        ann(4, 1, 1, {"size": [6, 8], "counts": [40, 9]}),             # sum over 48
        ann(5, 1, 1, {"size": [5, 5], "counts": ring}),                # not the image's size
        ann(6, 2, 1, {"size": [5, 5], "counts": "0`0"}),
        ann(7, 2, 1, "segmentation"),
        ann(8, 2, 1, [[-3, -3, 9, -3, 9, 9, -3, 9]])])                 # clipped to the image
    write("image_matching.json", [
        {"id": 1, "file_name": "sub/a.png", "width": 3, "height": 4},
        {"id": 2, "file_name": "x/a.png", "width": 3, "height": 4},     # ambiguous base name
        {"id": 3, "file_name": "sub\\b.png", "width": 5, "height": 5},  # Windows separator
        {"id": 4, "file_name": "a.png", "width": 6, "height": 8},       # not the file's size
        {"id": 5, "file_name": "missing.png", "width": 5, "height": 5}],
          [ann(i, i, 1, [[0, 0, 2, 0, 2, 2]]) for i in range(1, 6)])
    # broken.png cannot be read: its annotation's size (7x7) decides; the dog square at (1, 1)
    # is already there and not added twice.
    write("unreadable_image.json", [{"id": 7, "file_name": "broken.png", "width": 7, "height": 7},
                                    {"id": 8, "file_name": "broken.png", "width": 9, "height": 9}],
          [ann(1, 7, 3, [[1, 1, 3, 1, 3, 3, 1, 3]]), ann(2, 7, 1, [[4, 4, 6, 4, 6, 6]]),
           ann(3, 8, 1, [[1, 1, 3, 1, 3, 3]])],
          [{"id": 1, "name": " cat "}, {"id": 3, "name": "dog"}])
    write("empty.json", [], [], [])
    write("bad_category.json", [a], [ann(1, 1, 1, [[1, 1, 6, 1, 6, 4]])],
          [{"id": 1, "name": "a\nb"}])
    write("huge_image.json", [{"id": 1, "file_name": "a.png", "width": 100000, "height": 100000}],
          [])


def labelme_seeds():
    folder = fresh("labelme")

    def shape(label, points, shape_type="polygon", group_id=None, **extra):
        return dict({"label": label, "points": points, "group_id": group_id,
                     "shape_type": shape_type, "flags": {}}, **extra)

    def write(name, shapes, image_path="a.png", width=8, height=6, **extra):
        root = dict({"version": "5.1.1", "flags": {}, "shapes": shapes, "imagePath": image_path,
                     "imageData": None, "imageHeight": height, "imageWidth": width}, **extra)
        (folder / name).write_text(json.dumps(root, indent=1))

    write("polygon.json", [shape("cat", [[1, 1], [6, 1], [6, 4], [1, 4]]),
                           shape("bird", [[0, 0], [2, 0], [0, 2]])])
    write("rectangle.json", [shape("bird", [[0.5, 0.5], [3.5, 2.5]], "rectangle"),
                             shape("cat", [[4, 4], [1, 1]], "rectangle", 3)],
          "sub/b.png", 5, 5)
    write("other_shapes.json", [shape("cat", [[3, 3], [5, 3]], "circle"),
                                shape("cat", [[2, 2]], "point"),
                                shape("cat", [[0, 0], [7, 5]], "line"),
                                shape("cat", [[0, 0], [7, 0], [7, 5]], "linestrip"),
                                shape("dog", [[1, 1], [6, 1], [6, 4]])])
    # One instance of two shapes (same label and group_id), a hole cut from it by a
    # `_background_` shape of its group, then one cut from everything before it.
    write("groups_and_holes.json", [
        shape("cat", [[0, 0], [3, 0], [3, 5], [0, 5]], group_id=1),
        shape("cat", [[4, 0], [7, 0], [7, 5], [4, 5]], group_id=1),
        shape("dog", [[0, 0], [7, 0], [7, 5]], group_id=2),
        shape("_background_", [[1, 1], [2, 1], [2, 2], [1, 2]], group_id=1),
        shape("_background_", [[5, 2], [6, 2], [6, 3]])])
    crop = png(3, 2, 0, 8, [b"\x00\x01\x01", b"\x01\x01\x00"])
    write("mask_shape.json", [
        shape("cat", [[2, 1], [4, 2]], "mask", mask=base64.b64encode(crop).decode()),
        shape("cat", [[6, 5], [8, 6]], "mask", mask=base64.b64encode(crop).decode()),  # outside
        shape("dog", [[0, 0], [1, 1]], "mask", mask="bm90IGEgcG5n")])
    write("image_data.json", [shape("dog", [[0, 0], [2, 0], [2, 3]])], "sub/a.png", 3, 4,
          imageData=base64.b64encode(png(3, 4, 0, 8, [b"\x80" * 3] * 4)).decode(),
          version="4.5.6")
    (folder / "no_image_data.json").write_text(json.dumps(
        {"shapes": [{"label": "cat", "points": [[0, 0], [4, 0], [4, 4]]}],
         "imagePath": "..\\photos\\b.png", "imageHeight": 5, "imageWidth": 5}))
    write("bad_shapes.json", [shape("", [[0, 0], [2, 0], [2, 2]]),
                              shape("cat", [[0, 0], [2, 0]]),
                              shape("cat", [[0, 0], [2, "x"], [2, 2]]),
                              shape("cat", [[0, 0], [1e300, 0], [2, 2]]),
                              shape("cat", [[0, 0], [1, 1], [2, 2]], "rectangle")])
    write("size_mismatch.json", [shape("cat", [[0, 0], [2, 0], [2, 2]])], "a.png", 6, 8)
    write("unreadable_image.json", [shape("dog", [[1, 1], [2, 1], [2, 2], [1, 2]]),
                                    shape("cat", [[4, 4], [6, 4], [6, 6]])],
          "broken.png", 7, 7)
    write("not_in_project.json", [shape("cat", [[0, 0], [2, 0], [2, 2]])], "x/a.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--golden", type=pathlib.Path,
                        default=pathlib.Path(os.environ.get("PHOTOSYNTH_GOLDEN",
                                                            ROOT.parent / "shared" / "golden")))
    args = parser.parse_args()
    image_seeds(args.golden)
    checkpoint_seeds(args.golden)
    json_seeds(args.golden)
    coco_seeds()
    labelme_seeds()
    total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
    print(f"{sum(1 for f in CORPUS.rglob('*') if f.is_file())} seed files, {total} bytes")


if __name__ == "__main__":
    main()
