#!/usr/bin/env bash
# On the GPU machine (see ../shared/device/README.md), after building into BUILD: random
# official-layout checkpoints, then `photosynth-cli bench` for each in fp32 and bf16.
# Usage: scripts/gpu_bench.sh BUILD OUT_DIR [ITERATIONS]
set -euo pipefail
build=$1; out=$2; iterations=${3:-10}
cli=$build/app/photosynth-cli
mkdir -p "$out" /tmp/ckpt
for arch in vit_b vit_h mobile_sam u2net u2netp; do
  [ -f /tmp/ckpt/$arch.safetensors ] || "$cli" init-checkpoint --arch $arch --out /tmp/ckpt/$arch.safetensors
done
for precision in fp32 bf16; do
  "$cli" bench --device cuda --precision $precision --synthetic 2048x1536 --iterations "$iterations" \
    --warmup 3 --model /tmp/ckpt/vit_b.safetensors --model /tmp/ckpt/vit_h.safetensors \
    --model /tmp/ckpt/mobile_sam.safetensors --model /tmp/ckpt/u2net.safetensors \
    --model /tmp/ckpt/u2netp.safetensors --json "$out/bench_cuda_$precision.json" \
    --csv "$out/bench_cuda_$precision.csv"
done
