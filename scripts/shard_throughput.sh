#!/usr/bin/env bash
# Throughput of sharded batches on one machine: the same generated folder through `remove-bg`
# (U²-NetP) and `annotate` (tiny SAM, point file) as 1, 2 and 4 `--shard I/N` processes started
# together, images/s = images / wall clock of the slowest shard. On CPU the machine's cores are
# divided between the shards (OMP_NUM_THREADS, PHOTOSYNTH_MAX_WORKERS; at least 1 each); with
# --device cuda shard i gets GPU i mod (number of GPUs) through CUDA_VISIBLE_DEVICES, so 1, 2, 4
# shards on a 4-GPU node is one shard per GPU.
#
# usage: scripts/shard_throughput.sh [--images N] [--device cpu|cuda] [--shards "1 2 4"]
#        (build/app/photosynth-cli, or $PHOTOSYNTH_CLI; checkpoints from $PHOTOSYNTH_GOLDEN)
set -euo pipefail
cd "$(dirname "$0")/.."
images=80
device=cpu
shard_counts="1 2 4"
while [ $# -gt 0 ]; do
  case "$1" in
    --images) images=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --shards) shard_counts=$2; shift 2 ;;
    *) echo "usage: $0 [--images N] [--device cpu|cuda] [--shards \"1 2 4\"]" >&2; exit 2 ;;
  esac
done
cli=${PHOTOSYNTH_CLI:-build/app/photosynth-cli}
golden=${PHOTOSYNTH_GOLDEN:-$(cd .. && pwd)/shared/golden}
cores=$(nproc)
gpus=0
if [ "$device" = cuda ]; then
  gpus=$(nvidia-smi -L 2>/dev/null | wc -l)
  [ "$gpus" -gt 0 ] || { echo "no GPU (nvidia-smi -L lists none)" >&2; exit 1; }
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 tests/cluster/make_dataset.py "$work" "$work/points.json" "$images"
rm "$work/broken.png"  # throughput of the images that work
/usr/bin/python3 - "$work/points.json" <<'EOF'
import json, sys
points = json.load(open(sys.argv[1]))
del points["images"]["broken.png"]
json.dump(points, open(sys.argv[1], "w"))
EOF
mkdir "$work/images" && mv "$work"/img_*.png "$work/images/"

echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $cores core(s)," \
  "device $device$([ "$gpus" -gt 0 ] && echo " ($gpus GPU(s))"); $images images"
printf '%-10s %6s %14s %8s %10s\n' command shards threads/shard wall_s images/s
for command in remove-bg annotate; do
  for shards in $shard_counts; do
    threads=$((cores / shards))
    [ "$threads" -ge 1 ] || threads=1
    out=$work/out-$command-$shards
    start=$(date +%s.%N)
    pids=()
    for ((i = 0; i < shards; i++)); do
      if [ "$command" = remove-bg ]; then
        args=(remove-bg --model "$golden/u2netp.pth" --input-dir "$work/images" --output-dir "$out"
              --device "$device")
      else
        args=(annotate --model "$golden/sam_vit_tiny.pth" --input-dir "$work/images"
              --points "$work/points.json" --project "$out" --device "$device")
      fi
      gpu_env=()
      [ "$gpus" -gt 0 ] && gpu_env=(CUDA_VISIBLE_DEVICES=$((i % gpus)))
      env "${gpu_env[@]}" OMP_NUM_THREADS=$threads PHOTOSYNTH_MAX_WORKERS=$threads \
        "$cli" "${args[@]}" --shard "$i/$shards" >"$work/log-$command-$shards-$i" 2>&1 &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do
      wait "$pid" || { echo "a shard failed:" >&2; cat "$work/log-$command-$shards"-* >&2; exit 1; }
    done
    end=$(date +%s.%N)
    awk -v c="$command" -v s="$shards" -v t="$threads" -v a="$start" -v b="$end" -v n="$images" \
      'BEGIN { printf "%-10s %6d %14d %8.1f %10.2f\n", c, s, t, b - a, n / (b - a) }'
  done
done
