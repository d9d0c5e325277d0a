#!/usr/bin/env python3
"""Regenerates the fuzz seed corpora (fuzz/corpus/<target>/) from small real files: the golden
hostile checkpoints and their data.pkl, the golden images downscaled to 16 px (PNG written here,
JPEG through cjpeg), the golden PROMPTS.json files and hand-written POINTS.json and annotation
files. Needs `convert FILE.png ppm:-` (ImageMagick) and `cjpeg` (libjpeg-turbo-progs).

    scripts/fuzz_seeds.py [--golden DIR]
"""
import argparse
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--golden", type=pathlib.Path,
                        default=pathlib.Path(os.environ.get("PHOTOSYNTH_GOLDEN",
                                                            ROOT.parent / "shared" / "golden")))
    args = parser.parse_args()
    image_seeds(args.golden)
    checkpoint_seeds(args.golden)
    json_seeds(args.golden)
    total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
    print(f"{sum(1 for f in CORPUS.rglob('*') if f.is_file())} seed files, {total} bytes")


if __name__ == "__main__":
    main()
