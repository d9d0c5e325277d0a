#!/bin/bash
# One short device call (`run`, carry [".gpu"]) for SAM 2.1 tracking with the defaults as they
# stand: our per-frame figures (Hiera-T and Hiera-L, 1-3 objects), Hiera-L with the two kernels
# turned on by default last (PHOTOSYNTH_HIERA_WINDOW_ATTENTION, PHOTOSYNTH_ATTENTION_MERGE_KERNEL)
# off, then the official video predictor, plain and its torch.compile'd vos_optimized mode, for
# as long as the call lasts; a Hiera-T trace comes back for study offline, BiRefNet_lite's GPU time
# by operator goes in the log. Key figures in $OUT/log.txt (written as they come: a call cut short
# keeps them). Kit as scripts/gpu_session_bench.sh. LIMIT: seconds this call may take.
cd "$(dirname "$0")/.."
S=$(date +%s); left() { echo $(( ${LIMIT:-540} - ($(date +%s) - S) )); }
L=$OUT/log.txt
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee $L
TARGETS="photosynth-cli test_birefnet_parity test_birefnet_deform_conv2d" bash .gpu/gpu-build.sh .gpu/debs . /tmp/b -DPHOTOSYNTH_BUILD_GUI=OFF > $OUT/build.log 2>&1 || { grep -B2 -A6 error $OUT/build.log | head -40 | tee -a $L; exit 1; }
source /tmp/b/gpu-env.sh
CLI=/tmp/b/app/photosynth-cli; C=/tmp/ckpt; mkdir -p $C
for a in sam2.1_hiera_t sam2.1_hiera_l birefnet_lite birefnet isnet; do
  $CLI init-checkpoint --arch $a --out $C/$a.safetensors > /dev/null
done
echo "built, $(left) s left; load $(cut -d" " -f1-3 /proc/loadavg)" | tee -a $L
for t in test_birefnet_parity test_birefnet_deform_conv2d; do
  (cd /tmp/b && timeout 60 ./tests/$t > $OUT/$t.txt 2>&1; echo "$t rc=$? $(grep -E "Totals" $OUT/$t.txt)" | tee -a $L; grep -E "^FAIL" -A3 $OUT/$t.txt | head -12 | tee -a $L)
done
track() { timeout 90 $CLI bench --track --synthetic 1024x1024 --device cuda --precision bf16 --json /tmp/x.json "$@" 2>>$OUT/err.log; }
for m in sam2.1_hiera_t sam2.1_hiera_l; do
  track --model $C/$m.safetensors --frames 40 --objects 3 | tail -12 | tee -a $L
done
echo "PHOTOSYNTH_HIERA_WINDOW_ATTENTION=0 PHOTOSYNTH_ATTENTION_MERGE_KERNEL=0:" | tee -a $L
PHOTOSYNTH_HIERA_WINDOW_ATTENTION=0 PHOTOSYNTH_ATTENTION_MERGE_KERNEL=0 track --model $C/sam2.1_hiera_l.safetensors --frames 40 --objects 1 | tail -4 | tee -a $L
for m in sam2.1_hiera_t sam2.1_hiera_l; do
  echo "$m PHOTOSYNTH_ENCODE_AHEAD_FIRST=1:" | tee -a $L
  PHOTOSYNTH_ENCODE_AHEAD_FIRST=1 track --model $C/$m.safetensors --frames 40 --objects 1 | tail -4 | tee -a $L
done
echo "ours done, $(left) s left" | tee -a $L
# A Hiera-T trace (CUDA graphs on, as users run it), its last 40% brought back for study offline.
if [ $(left) -gt 80 ]; then
  track --model $C/sam2.1_hiera_t.safetensors --objects 1 --frames 80 --trace /tmp/tt.json > /dev/null
  python3 scripts/trace_trim.py /tmp/tt.json $OUT/hiera_t_trace.json.gz 0.4 | tee -a $L
  python3 scripts/trace_window.py /tmp/tt.json 0.4 8 12 | head -24 >> $L 2>&1
fi
# BiRefNet_lite's forward without CUDA graphs, its GPU time by operator and input shapes: which
# convolutions leave the ~46 broadcast bias adds a forward (issue 16's 5 ms).
if [ $(left) -gt 90 ]; then
  for m in birefnet_lite birefnet isnet; do
    echo "$m:" | tee -a $L
    timeout 40 $CLI bench --device cuda --precision bf16 --synthetic 1024x1024 --iterations 20 --warmup 5 --model $C/$m.safetensors --json /tmp/x.json 2>>$OUT/err.log | grep -E "forward|remove_bg|process" | tee -a $L
    [ $m = isnet ] && continue
    echo "$m PHOTOSYNTH_DEFORM_SHARED_SAMPLING=1:" | tee -a $L
    PHOTOSYNTH_DEFORM_SHARED_SAMPLING=1 timeout 40 $CLI bench --device cuda --precision bf16 --synthetic 1024x1024 --iterations 20 --warmup 5 --model $C/$m.safetensors --json /tmp/x.json 2>>$OUT/err.log | grep -E "forward|remove_bg" | tee -a $L
  done
  echo "=== birefnet_lite, graphs off, by operator" | tee -a $L
  PHOTOSYNTH_CUDA_GRAPHS=0 timeout 40 $CLI bench --device cuda --precision bf16 --synthetic 1024x1024 --iterations 12 --warmup 4 --model $C/birefnet_lite.safetensors --json /tmp/x.json --trace /tmp/tr.json > /dev/null 2>>$OUT/err.log
  python3 scripts/trace_window.py /tmp/tr.json 0.5 8 40 | sed -n '/by operator/,$p' >> $L 2>&1
fi
# The official predictor, plain, then vos_optimized in a process of its own (its compilation
# falls in the warm-up frames and may outlast the call: the plain figure is kept either way).
O="python3 scripts/official_sam2_gpu_bench.py --sam2 .gpu/src/sam2 --video-model $C/sam2.1_hiera_t.safetensors --objects 1 --frames 24 --warmup-frames 3"
[ $(left) -gt 60 ] && timeout $(( $(left) - 15 )) $O --json $OUT/official_sam2.json > $OUT/official_sam2.log 2>&1
echo "official plain rc=$?, $(left) s left" | tee -a $L
p50s() { python3 -c 'import json,sys; [print(v["arch"], "vos_optimized" if v["vos_optimized"] else "plain", k, x["p50_ms"]) for v in json.load(open(sys.argv[1]))["video"] for k, x in v.items() if k.startswith("propagate")]' $1 2>&1 | tee -a $L; }
p50s $OUT/official_sam2.json
[ $(left) -gt 60 ] && timeout $(( $(left) - 10 )) $O --vos-optimized --vos-only --vos-warmup-frames 12 --json $OUT/official_vos.json > $OUT/official_vos.log 2>&1
echo "official vos_optimized rc=$?, $(left) s left" | tee -a $L
p50s $OUT/official_vos.json
tail -3 $OUT/official_vos.log | cut -c1-300 | tee -a $L
