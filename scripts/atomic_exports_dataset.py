# Two COCO files (squares shifted by a pixel) over 25 generated 64x64 PNGs, for scripts/atomic_exports.sh.
import json, struct, zlib, os, sys
root = sys.argv[1]
os.makedirs(root + "/images", exist_ok=True)
def png(path, w, h):
    raw = b"".join(b"\x00" + bytes([(x * 4) % 256 for x in range(w)]) for _ in range(h))
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
N = 25
for i in range(N): png(f"{root}/images/img{i:02d}.png", 64, 64)
for variant, name in ((0, "A"), (1, "B")):
    images, anns = [], []
    for i in range(N):
        images.append({"id": i + 1, "file_name": f"img{i:02d}.png", "width": 64, "height": 64})
        for k in range(120 if i == 12 else 2):
            x, y = (k % 12) * 5 + variant, (k // 12) * 5 + variant
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": 1, "iscrowd": 0, "area": 9,
                         "bbox": [x, y, 3, 3], "segmentation": [[x, y, x + 3, y, x + 3, y + 3, x, y + 3]]})
    json.dump({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "thing"}]}, open(f"{root}/coco_{name}.json", "w"))
