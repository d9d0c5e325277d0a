#!/usr/bin/env bash
# Peak RSS of `photosynth-cli annotate` over folders of N generated images (default 100 and 500):
# a batch must not keep embeddings it never reuses, so the peak should not grow with N.
# Usage: scripts/batch_memory.sh [CHECKPOINT] [N ...]   (default: the golden tiny SAM)
# Needs the build (scripts/build.sh; PHOTOSYNTH_CLI names another binary) and Debian's
# python3-numpy and python3-pil.
set -euo pipefail
cd "$(dirname "$0")/.."
checkpoint=${1:-${PHOTOSYNTH_GOLDEN:-../shared/golden}/sam_vit_tiny.pth}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100 500)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for n in "${counts[@]}"; do
  folder="$scratch/images_$n"
  /usr/bin/python3 - "$folder" "$n" <<'PY'
import json, os, sys
import numpy as np
from PIL import Image
folder, count = sys.argv[1], int(sys.argv[2])
os.makedirs(folder, exist_ok=True)
rng = np.random.default_rng(7)
points = {}
for i in range(count):
    w, h = 160 + (i * 13) % 97, 120 + (i * 7) % 61
    img = (rng.random((h, w, 3)) * 60 + 90).astype(np.uint8)
    img[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = (200, 60, 40)
    name = f"img_{i:04d}.png"
    Image.fromarray(img).save(os.path.join(folder, name))
    points[name] = [{"label": "square", "points": [[w / 2, h / 2, 1]]}]
json.dump({"images": points}, open(os.path.join(folder, "..", f"points_{count}.json"), "w"))
PY
  /usr/bin/time -f "%M" -o "$scratch/rss_$n" ${PHOTOSYNTH_CLI:-./build/app/photosynth-cli} annotate --model "$checkpoint" \
    --input-dir "$folder" --points "$scratch/points_$n.json" --project "$scratch/project_$n" >/dev/null 2>&1
  echo "$n images: peak RSS $(( $(cat "$scratch/rss_$n") / 1024 )) MB"
done
