#!/usr/bin/env bash
# Issue 17's memory check: SAM 2.1 tracking of one object through a long 1080p clip must stay
# bounded (peak RSS <= 4 GB, peak VRAM <= 3 GB for 10,000 frames with Hiera-L, CUDA bf16). Runs
# `photosynth-cli bench --track` on a synthetic clip (frames made on demand, masks dropped after
# each frame) and prints the peaks against the limits; exits 1 when one is over.
#
# Usage: scripts/long_video_memory.sh CLI CKPT [FRAMES]      (FRAMES default 10000)
#   The issue's check, on the GPU machine:
#     CLI=build/app/photosynth-cli
#     $CLI init-checkpoint --arch sam2.1_hiera_l --out /tmp/sam2.1_hiera_l.safetensors
#     scripts/long_video_memory.sh $CLI /tmp/sam2.1_hiera_l.safetensors 10000
#   Environment: DEVICE (cuda), PRECISION (bf16), SIZE (1920x1080), SAM2_LAYOUT (for a
#   checkpoint of an unpublished layout, e.g. the tests' tiny one), RSS_LIMIT_MB (4096),
#   VRAM_LIMIT_MB (3072), JSON (where the report goes; default a temporary file).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CLI CKPT [FRAMES]" >&2
  exit 2
fi
cli=$1
checkpoint=$2
frames=${3:-10000}
device=${DEVICE:-cuda}
precision=${PRECISION:-bf16}
size=${SIZE:-1920x1080}
rss_limit_mb=${RSS_LIMIT_MB:-4096}
vram_limit_mb=${VRAM_LIMIT_MB:-3072}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
json=${JSON:-$scratch/track.json}

args=(bench --track --model "$checkpoint" --synthetic "$size" --frames "$frames" --objects 1
      --device "$device" --precision "$precision" --json "$json")
[ -n "${SAM2_LAYOUT:-}" ] && args+=(--sam2-layout "$SAM2_LAYOUT")
echo "$cli ${args[*]}"
# The kernel's own account of the peak as well, where GNU time is installed.
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "%M" -o "$scratch/maxrss_kb" "$cli" "${args[@]}"
else
  "$cli" "${args[@]}"
fi

# A number field of the report ("null" when the run had none to give).
field() { grep -o "\"$1\": *[-0-9.e+null]*" "$json" | head -1 | sed 's/.*: *//'; }
to_mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }

rss_mb=$(to_mb "$(field peak_rss_bytes)")
vram=$(field peak_vram_bytes)
growth_mb=$(to_mb "$(field rss_growth_bytes)")
p50=$(field frame_p50_ms)
p90=$(field frame_p90_ms)
echo "frames $frames at $size, $device $precision: per frame p50 $p50 ms, p90 $p90 ms"
echo "RSS growth during propagation: $growth_mb MB"
status=0
verdict() { if [ "$1" -le "$2" ]; then echo "ok"; else echo "OVER"; status=1; fi; }
line="peak RSS $rss_mb MB (limit $rss_limit_mb MB): $(verdict "$rss_mb" "$rss_limit_mb")"
echo "$line"
[[ $line == *OVER ]] && status=1
if [ -f "$scratch/maxrss_kb" ]; then
  echo "peak RSS by GNU time: $(( $(cat "$scratch/maxrss_kb") / 1024 )) MB"
fi
if [ "$vram" = "null" ] || [ -z "$vram" ]; then
  echo "peak VRAM: not measured ($(grep -o '"vram_unavailable_reason": *"[^"]*"' "$json" | sed 's/.*: *//'))"
  [ "$device" = cpu ] || status=1
else
  vram_mb=$(to_mb "$vram")
  line="peak VRAM $vram_mb MB (limit $vram_limit_mb MB): $(verdict "$vram_mb" "$vram_limit_mb")"
  echo "$line"
  [[ $line == *OVER ]] && status=1
fi
exit $status
