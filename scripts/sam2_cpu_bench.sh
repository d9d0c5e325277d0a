#!/usr/bin/env bash
# Same-run CPU comparison with the official SAM 2.1 code (issue 17): Hiera-T, 2 threads, float32,
# random weights from `photosynth-cli init-checkpoint` (the official code loads the same file),
# (a) image encode at 1024x1024: our `photosynth-cli bench` preprocess + encode against the
#     official SAM2ImagePredictor.set_image;
# (b) per-frame propagation, one object (a click on frame 0), on the same 1024x1024 JPEG frames:
#     our `photosynth-cli bench --track` against the official SAM2VideoPredictor.propagate_in_video
#     (scripts/official_sam2_cpu_bench.py), each the median over the frames after the prompted one;
# medians, then the ratios (ours / official; the issue asks for <= 0.6).
# Needs Debian's python3-torch (1.13), numpy, Pillow, PyYAML and a clone, bare mirror or checkout
# of github.com/facebookresearch/sam2 (not part of this repository).
# usage: scripts/sam2_cpu_bench.sh BUILD_DIR SAM2_SRC OUT_DIR [ITERATIONS] [FRAMES]
set -euo pipefail
build=$1; sam2_src=$2; out=$3; iterations=${4:-3}; frames=${5:-6}
here=$(cd "$(dirname "$0")" && pwd)
cli=$build/app/photosynth-cli
mkdir -p "$out"
ckpt=$out/sam2.1_hiera_t.safetensors
[ -f "$ckpt" ] || "$cli" init-checkpoint --arch sam2.1_hiera_t --out "$ckpt" > /dev/null
if [ ! -f "$out/frames/$(printf '%05d' $((frames - 1))).jpg" ]; then
  mkdir -p "$out/frames"
  (cd "$here" && /usr/bin/python3 -c 'import sys, official_sam2_common as c
c.write_frames(sys.argv[1], int(sys.argv[2]), 1024)' "$out/frames" "$frames")
fi
"$cli" bench --device cpu --precision fp32 --workers 2 --synthetic 1024x1024 \
  --iterations "$iterations" --warmup 1 --model "$ckpt" --json "$out/ours_image.json" > /dev/null 2>&1
"$cli" bench --track --device cpu --precision fp32 --model "$ckpt" --video "$out/frames" \
  --frames "$frames" --objects 1 --json "$out/ours_video.json" > /dev/null 2>&1
/usr/bin/python3 "$here/official_sam2_cpu_bench.py" --sam2 "$sam2_src" --model "$ckpt" \
  --threads 2 --iterations "$iterations" --warmup 1 --frames "$frames" --warmup-frames 0 \
  --frames-dir "$out/frames" --json "$out/official.json" > /dev/null 2> "$out/official.log"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
bench = json.load(open(out + '/ours_image.json'))
image = dict(bench['models'][0], machine=bench['machine'])
video = json.load(open(out + '/ours_video.json'))
ref = json.load(open(out + '/official.json'))
st = image['stages']
encode = st['preprocess']['p50_ms'] + st['encode']['p50_ms']
ref_encode = ref['image']['set_image']['p50_ms']
track = video['runs'][0]['frame_p50_ms']
ref_track = ref['propagate_1_object']['p50_ms']
print('Hiera-T (sam2.1_hiera_t), %s, 2 threads, fp32, 1024x1024, medians'
      % image.get('machine', {}).get('cpu', 'this CPU'))
print('  image encode (set_image: preprocess + encoder): ours %.0f ms, official %.0f ms -> %.2fx'
      % (encode, ref_encode, encode / ref_encode))
print('  per-frame propagation, 1 object (%d frames): ours %.0f ms, official %.0f ms -> %.2fx'
      % (video['runs'][0]['frames'], track, ref_track, track / ref_track))
print('  official: torch %s; peak RSS ours (image bench) %.2f GB, official %.2f GB'
      % (ref['torch'], image['peak_rss_bytes'] / 1e9, ref['peak_rss_bytes'] / 1e9))
PY
