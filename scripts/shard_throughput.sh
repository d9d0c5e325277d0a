#!/usr/bin/env bash
# Throughput of sharded batches on one machine: the same generated folder through `remove-bg`
# (a matting model, by default the golden U²-NetP) and `annotate` (a SAM model with a point file,
# by default the golden tiny SAM) as 1, 2 and 4 `--shard I/N` processes started together.
# images/s = images / wall clock of the slowest shard, model loads included; "after load" =
# images / (the last shard's last image - the first shard's start after its model load), from the
# shards' journals; "failed": images that failed but were worked on (annotate on random weights
# from init-checkpoint finds only empty masks). On CPU the machine's cores are divided between the shards (OMP_NUM_THREADS,
# PHOTOSYNTH_MAX_WORKERS; at least 1 each); with --device cuda shard i runs on GPU
# (i / K) mod (number of GPUs) through CUDA_VISIBLE_DEVICES, K = --per-gpu (default 1: one shard
# per GPU while there are GPUs, so 1, 2, 4 shards on a 4-GPU node is one shard per GPU; K = 2
# puts two shards on each GPU before using the next). The table shows the GPUs used and the
# shards per GPU.
#
# usage: scripts/shard_throughput.sh [--images N] [--device cpu|cuda] [--shards "1 2 4"]
#          [--matting-model CKPT] [--sam-model CKPT] [--size WxH] [--batch N]
#          [--precision fp32|fp16|bf16] [--per-gpu K]
#   --size WxH        every generated image WxH (default: 96x64 to 160x120, the cluster test's)
#   --batch N         remove-bg runs N images per forward pass (remove-bg --batch)
#   --precision P     passed to remove-bg and annotate (default: theirs)
#   (build/app/photosynth-cli, or $PHOTOSYNTH_CLI; default checkpoints from $PHOTOSYNTH_GOLDEN;
#   $PHOTOSYNTH_PYTHON: a python3 with numpy and Pillow, default /usr/bin/python3)
# A realistic GPU figure: full-size checkpoints (photosynth-cli init-checkpoint --arch isnet /
# --arch vit_b) on 1024x1024 images, e.g.
#   scripts/shard_throughput.sh --device cuda --precision bf16 --images 64 --size 1024x1024 \
#     --matting-model isnet.safetensors --sam-model vit_b.safetensors --shards "1 2 4"
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: $0 [--images N] [--device cpu|cuda] [--shards \"1 2 4\"] [--matting-model CKPT]
  [--sam-model CKPT] [--size WxH] [--batch N] [--precision fp32|fp16|bf16] [--per-gpu K]"
images=80
device=cpu
shard_counts="1 2 4"
cli=${PHOTOSYNTH_CLI:-build/app/photosynth-cli}
# numpy and Pillow make the images: Debian's python3, or $PHOTOSYNTH_PYTHON where that lacks them.
python=${PHOTOSYNTH_PYTHON:-/usr/bin/python3}
golden=${PHOTOSYNTH_GOLDEN:-$(cd .. && pwd)/shared/golden}
matting_model=$golden/u2netp.pth
sam_model=$golden/sam_vit_tiny.pth
size=
batch=
precision=
per_gpu=1
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "$1 needs a value; $usage" >&2; exit 2; }
  case "$1" in
    --images) images=$2 ;;
    --device) device=$2 ;;
    --shards) shard_counts=$2 ;;
    --matting-model) matting_model=$2 ;;
    --sam-model) sam_model=$2 ;;
    --size) size=$2 ;;
    --batch) batch=$2 ;;
    --precision) precision=$2 ;;
    --per-gpu) per_gpu=$2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
  shift 2
done
whole() { [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "$1 '$2': expected a whole number >= 1" >&2; exit 2; }; }
whole --images "$images"
whole --per-gpu "$per_gpu"
[ -z "$batch" ] || whole --batch "$batch"
for shards in $shard_counts; do whole --shards "$shards"; done
[ -z "$size" ] || [[ $size =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] ||
  { echo "--size '$size': expected WxH, e.g. 1024x1024" >&2; exit 2; }
for model in "$matting_model" "$sam_model"; do
  [ -f "$model" ] || { echo "$model: no such checkpoint" >&2; exit 1; }
done
cores=$(nproc)
gpus=0
if [ "$device" = cuda ]; then
  gpus=$(nvidia-smi -L 2>/dev/null | wc -l)
  [ "$gpus" -gt 0 ] || { echo "no GPU (nvidia-smi -L lists none)" >&2; exit 1; }
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" tests/cluster/make_dataset.py "$work" "$work/points.json" "$images" $size
rm "$work/broken.png"  # throughput of the images that work
"$python" - "$work/points.json" <<'EOF'
import json, sys
points = json.load(open(sys.argv[1]))
del points["images"]["broken.png"]
json.dump(points, open(sys.argv[1], "w"))
EOF
mkdir "$work/images" && mv "$work"/img_*.png "$work/images/"

common=(--device "$device")
[ -z "$precision" ] || common+=(--precision "$precision")
matting_args=()
[ -z "$batch" ] || matting_args+=(--batch "$batch")

# From the shards' summaries of $1: images / (latest last line - earliest start), the rate once
# the models are loaded (each journal starts after its model load); the images that failed; the
# images no shard reported.
after_load() {
  "$python" - "$1" "$images" <<'EOF'
import glob, json, sys
summaries = [json.load(open(p)) for p in glob.glob(sys.argv[1] + "/.photosynth/shards/*.json")]
runs = [run for summary in summaries for run in summary["runs"]]
span = (max(r["last_ms"] for r in runs) - min(r["started_ms"] for r in runs)) / 1000 if runs else 0
failed = sum(summary["failed"] for summary in summaries)
reported = sum(summary["done"] + summary["failed"] + summary["skipped"] for summary in summaries)
print("%.2f" % (int(sys.argv[2]) / span) if span > 0 else "-", failed, int(sys.argv[2]) - reported)
EOF
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $cores core(s)," \
  "device $device$([ "$gpus" -gt 0 ] && echo " ($gpus GPU(s): $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1))");" \
  "$images images${size:+ of $size}${precision:+, $precision}${batch:+, remove-bg --batch $batch}"
echo "models: remove-bg $(basename "$matting_model"), annotate $(basename "$sam_model")"
printf '%-10s %6s %5s %10s %14s %8s %10s %12s %7s\n' command shards gpus shards/gpu threads/shard \
  wall_s images/s "after load" failed
for command in remove-bg annotate; do
  for shards in $shard_counts; do
    threads=$((cores / shards))
    [ "$threads" -ge 1 ] || threads=1
    used_gpus=0
    if [ "$gpus" -gt 0 ]; then
      used_gpus=$(((shards + per_gpu - 1) / per_gpu))
      [ "$used_gpus" -le "$gpus" ] || used_gpus=$gpus
    fi
    out=$work/out-$command-$shards
    start=$(date +%s.%N)
    pids=()
    for ((i = 0; i < shards; i++)); do
      if [ "$command" = remove-bg ]; then
        args=(remove-bg --model "$matting_model" --input-dir "$work/images" --output-dir "$out"
              "${matting_args[@]}")
      else
        args=(annotate --model "$sam_model" --input-dir "$work/images"
              --points "$work/points.json" --project "$out")
      fi
      gpu_env=()
      [ "$gpus" -gt 0 ] && gpu_env=(CUDA_VISIBLE_DEVICES=$(((i / per_gpu) % gpus)))
      env "${gpu_env[@]}" OMP_NUM_THREADS=$threads PHOTOSYNTH_MAX_WORKERS=$threads \
        "$cli" "${args[@]}" "${common[@]}" --shard "$i/$shards" \
        >"$work/log-$command-$shards-$i" 2>&1 &
      pids+=($!)
    done
    # Exit 1 is a shard whose images failed, which the summaries count (random weights from
    # init-checkpoint give annotate empty masks: the work is done all the same); anything else,
    # or an image no shard reported, ends the run.
    for pid in "${pids[@]}"; do
      rc=0
      wait "$pid" || rc=$?
      [ "$rc" -le 1 ] || { echo "a shard failed:" >&2; cat "$work/log-$command-$shards"-* >&2; exit 1; }
    done
    end=$(date +%s.%N)
    # A GPU figure measured on the CPU would be a lie: a shard that fell back ends the run.
    if [ "$device" = cuda ] && grep -l "running on CPU" "$work/log-$command-$shards"-* >&2; then
      echo "a shard ran on the CPU, not the GPU (above): no figure" >&2
      exit 1
    fi
    read -r loaded failed missing < <(after_load "$out")
    if [ "$missing" -ne 0 ]; then
      echo "$missing image(s) that no shard reported:" >&2
      cat "$work/log-$command-$shards"-* >&2
      exit 1
    fi
    awk -v c="$command" -v s="$shards" -v g="$used_gpus" -v t="$threads" -v a="$start" \
      -v b="$end" -v n="$images" -v l="$loaded" -v f="$failed" 'BEGIN {
        per = g > 0 ? sprintf("%.1f", s / g) : "-"
        printf "%-10s %6d %5d %10s %14d %8.1f %10.2f %12s %7d\n", c, s, g, per, t, b - a, n / (b - a), l, f
      }'
  done
done
