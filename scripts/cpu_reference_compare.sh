#!/usr/bin/env bash
# Same-run CPU comparison with the official segment-anything predictor (issue 6's reference):
# our bench and the official code back to back on this machine, ViT-B, 2 threads, random weights,
# a synthetic 2048x1536 image, then the ratios. Needs `apt-get install python3-torch
# python3-torchvision` (Debian's PyTorch 1.13 with OpenBLAS) and a checkout of
# github.com/facebookresearch/segment-anything (not part of this repository).
# usage: scripts/cpu_reference_compare.sh BUILD_DIR SAM_SRC_DIR OUT_DIR [ITERATIONS]
set -euo pipefail
build=$1; sam_src=$2; out=$3; iterations=${4:-3}
cli=$build/app/photosynth-cli
mkdir -p "$out"
[ -f "$out/vit_b.safetensors" ] || "$cli" init-checkpoint --arch vit_b --out "$out/vit_b.safetensors" > /dev/null
"$cli" bench --device cpu --synthetic 2048x1536 --iterations "$iterations" --warmup 1 \
  --model "$out/vit_b.safetensors" --json "$out/ours.json" > /dev/null 2>&1
/usr/bin/python3 "$(dirname "$0")/official_sam_cpu_bench.py" --sam-src "$sam_src" --threads 2 \
  --iterations "$iterations" --warmup 1 --json "$out/official.json" > /dev/null
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
ours = json.load(open(out + '/ours.json'))['models'][0]
ref = json.load(open(out + '/official.json'))
st = ours['stages']
encode = st['preprocess']['p50_ms'] + st['encode']['p50_ms']
click = st['click_to_mask']['p50_ms']
print('ViT-B, 2 threads, 2048x1536, medians')
print('  set_image (preprocess + encoder): ours %.0f ms, official %.0f ms -> %.2fx'
      % (encode, ref['set_image_ms_p50'], encode / ref['set_image_ms_p50']))
print('  one click (3 masks at full size on the host): ours %.1f ms, official %.1f ms -> %.2fx'
      % (click, ref['click_ms_p50'], click / ref['click_ms_p50']))
print('  peak RSS: ours %.2f GB, official %.2f GB'
      % (ours['peak_rss_bytes'] / 1e9, ref['peak_rss_bytes'] / 1e9))
PY
