#!/usr/bin/python3
"""Reads LabelMe files as labelme itself does (Debian's labelme 5.1), for test_labelme_fidelity.

usage: labelme_render.py OUT_DIR FILE.json...

Per file FILE.json with stem S:
- OUT_DIR/S_<group_id>.png: each object, 0/255, as labelme's own tools gather an instance (the
  union of labelme.utils.shape_to_mask over the shapes that share label and group_id, as
  shapes_to_label and labelme2coco do), less the `_background_` shapes of that group_id;
- OUT_DIR/S_dataset/: what `labelme_json_to_dataset FILE.json -o OUT_DIR/S_dataset` writes
  (label.png, label_names.txt), by calling the same entry point in this process.
"""
import json
import os
import sys

import numpy as np
import PIL.Image
from labelme.cli import json_to_dataset
from labelme.utils import shape_to_mask


def render_objects(path, out_dir, stem):
    with open(path) as file:
        data = json.load(file)
    size = (data["imageHeight"], data["imageWidth"])
    objects, holes = {}, {}
    for shape in data["shapes"]:
        mask = shape_to_mask(size, shape["points"], shape.get("shape_type"))
        group_id = shape.get("group_id")
        if shape["label"] == "_background_":
            holes[group_id] = holes.get(group_id, np.zeros(size, bool)) | mask
        else:
            key = (shape["label"], group_id)
            objects[key] = objects.get(key, np.zeros(size, bool)) | mask
    for (label, group_id), mask in objects.items():
        mask &= ~holes.get(group_id, np.zeros(size, bool))
        image = PIL.Image.fromarray(mask.astype(np.uint8) * 255)
        image.save(os.path.join(out_dir, "%s_%s.png" % (stem, group_id)))


def main():
    out_dir = sys.argv[1]
    for path in sys.argv[2:]:
        stem = os.path.splitext(os.path.basename(path))[0]
        render_objects(path, out_dir, stem)
        sys.argv = ["labelme_json_to_dataset", path, "-o", os.path.join(out_dir, stem + "_dataset")]
        json_to_dataset.main()


if __name__ == "__main__":
    main()
