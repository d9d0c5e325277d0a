#!/usr/bin/env bash
# Sharded batches on a real Slurm cluster (one node, this machine; issue 18): a 4-task array of
# `annotate` (tiny SAM, point file) and one of `remove-bg` (U²-NetP) over 40 generated images
# and a corrupt one, submitted through scripts/slurm/cpu.sbatch, then merged. Checks: every image
# processed exactly once by exactly one shard; annotations, exported masks, cut-outs and mattes
# byte-identical to a one-machine run of the same command; a task cancelled mid-run (scancel) and
# resubmitted skips what it had finished (counted from its journal and its Slurm log); the
# corrupt image is in the merged report and the other images are done.
# Fails (never skips) when Slurm cannot start: CI installs slurm-wlm and munge
# (scripts/install-deps.sh --test) and runs as root.
#
# usage: test_slurm_cluster.sh PHOTOSYNTH_CLI SOURCE_DIR GOLDEN_DIR
set -euo pipefail
cli=$1
source_dir=$2
golden=${PHOTOSYNTH_GOLDEN:-$3}
images=40
shards=4
broken=broken.png

work=$(mktemp -d /tmp/photosynth-cluster-test.XXXXXX)
chmod 755 "$work"
export PS_SLURM_DIR=$work/slurm
# Its own ports: a second cluster (another test run, a developer's) keeps its own.
export PS_SLURM_PORT=$((20000 + RANDOM % 20000))
cluster() { bash "$source_dir/scripts/slurm_local_cluster.sh" "$@"; }
finish() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "--- kept for inspection: $work" >&2
    for log in "$work"/logs/*.log "$PS_SLURM_DIR"/slurmctld.log; do
      [ -f "$log" ] && { echo "--- $log (tail)" >&2; tail -15 "$log" >&2; }
    done
  fi
  cluster stop || true
  [ "$status" -eq 0 ] && rm -rf "$work"
  exit "$status"
}
trap finish EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
check() { /usr/bin/python3 "$source_dir/tests/cluster/check_shards.py" "$@"; }
# No Slurm variables from an enclosing job: the reference runs are whole batches.
for variable in $(env | grep -o '^SLURM_[A-Z_]*' || true); do unset "$variable"; done
unset JOB_COMPLETION_INDEX

sam=$golden/sam_vit_tiny.pth
u2netp=$golden/u2netp.pth
[ -f "$sam" ] && [ -f "$u2netp" ] || fail "golden checkpoints missing in $golden"
mkdir -p "$work/images" "$work/logs"
/usr/bin/python3 "$source_dir/tests/cluster/make_dataset.py" "$work/images" "$work/points.json" \
  "$images"

annotate_args=(annotate --model "$sam" --input-dir "$work/images" --points "$work/points.json"
               --device cpu)
remove_bg_args=(remove-bg --model "$u2netp" --input-dir "$work/images")

# The cluster first: if it cannot start, say so before spending a minute on references.
started=$(cluster start) || fail "the Slurm cluster did not start (see above)"
eval "$started"
echo "cluster: $(sinfo -h -o '%P %a %D %t %N')"

# The one-machine references run while the arrays queue behind them: 2 cores either way.
submit() {  # submit NAME ARRAY ARGS... -> job id
  local name=$1 array=$2
  shift 2
  sbatch --parsable --job-name="$name" --array="$array" --cpus-per-task=1 --mem=1G \
    --time=00:10:00 --output="$work/logs/$name-%A_%a.log" \
    --export=ALL,PHOTOSYNTH_CLI="$cli" "$source_dir/scripts/slurm/cpu.sbatch" "$shards" "$@"
}
annotate_job=$(submit annotate 0-$((shards - 1)) "${annotate_args[@]}" --project "$work/project")
remove_bg_job=$(submit remove-bg 0-$((shards - 1)) "${remove_bg_args[@]}" \
  --output-dir "$work/cutouts" --matte-dir "$work/mattes")
echo "submitted: annotate job $annotate_job, remove-bg job $remove_bg_job"

# Task 1 of the annotate array is cancelled once it has finished two images.
journal=$work/project/.photosynth/shards/1-of-$shards.jsonl
cancelled=no
for _ in $(seq 1 1200); do
  if [ -f "$journal" ] && [ "$(grep -c '"event":"done"' "$journal" || true)" -ge 2 ]; then
    scancel "${annotate_job}_1"
    cancelled=yes
    break
  fi
  sleep 0.1
done
[ "$cancelled" = yes ] || fail "annotate task 1 never finished two images in 120 s"
echo "cancelled ${annotate_job}_1 after $(grep -c '"event":"done"' "$journal") image(s)"

wait_for() {  # wait_for JOB... : until none is queued or running, at most 240 s
  for _ in $(seq 1 480); do
    [ -z "$(squeue -h -j "$(IFS=,; echo "$*")" 2>/dev/null)" ] && return 0
    sleep 0.5
  done
  squeue >&2
  fail "jobs $* still queued after 240 s"
}
# The references with the threads a task has (cpu.sbatch: OMP_NUM_THREADS and
# PHOTOSYNTH_MAX_WORKERS from --cpus-per-task=1): LibTorch's parallel sums round differently
# with another thread count (the last bits of a score, a matte's pixel off by one).
reference() {  # reference LOG ARGS...
  local log=$1
  shift
  env OMP_NUM_THREADS=1 PHOTOSYNTH_MAX_WORKERS=1 PHOTOSYNTH_DEVICE=cpu "$cli" "$@" >"$log" 2>&1
}
reference "$work/logs/reference-annotate.log" "${annotate_args[@]}" \
  --project "$work/reference_project" &
annotate_reference=$!
reference "$work/logs/reference-remove-bg.log" "${remove_bg_args[@]}" \
  --output-dir "$work/reference_cutouts" --matte-dir "$work/reference_mattes" &&
  fail "reference remove-bg succeeded with a corrupt image in the folder"
wait "$annotate_reference" && fail "reference annotate succeeded with a corrupt image named"
wait_for "$annotate_job" "$remove_bg_job"
grep -q "CANCELLED" "$work/logs/annotate-${annotate_job}_1.log" ||
  fail "the cancelled task's log has no CANCELLED line"

# Resubmitting the cancelled index alone: --shards keeps the split of 4.
resubmitted=$(submit annotate 1 "${annotate_args[@]}" --project "$work/project")
wait_for "$resubmitted"
check resumed "$journal"
resumed_lines=$(grep -c "^annotate: \[resumed\] .*: skipped, done in an earlier run" \
  "$work/logs/annotate-${resubmitted}_1.log" || true)
first_done=$(/usr/bin/python3 -c "
import json, sys
runs = []
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    if e['event'] == 'start': runs.append(e['run'])
    elif e['event'] == 'done' and e['run'] == runs[0]: print(e['input'])
" "$journal" | wc -l)
[ "$resumed_lines" -eq "$first_done" ] ||
  fail "the resubmitted task's log skips $resumed_lines image(s); the cancelled run did $first_done"
echo "resubmitted task log: $resumed_lines image(s) skipped as done in an earlier run"

check once "$work/project" "$shards" "$work/images" "$broken"
check once "$work/cutouts" "$shards" "$work/images" "$broken"

set +e
"$cli" merge --project "$work/project" >"$work/logs/merge-annotate.txt" 2>&1
merge_annotate=$?
"$cli" merge --project "$work/cutouts" >"$work/logs/merge-remove-bg.txt" 2>&1
merge_remove_bg=$?
set -e
cat "$work/logs/merge-annotate.txt" "$work/logs/merge-remove-bg.txt"
[ "$merge_annotate" -eq 1 ] && [ "$merge_remove_bg" -eq 1 ] ||
  fail "merge exited $merge_annotate and $merge_remove_bg; expected 1 (one failure each)"
grep -q "  $broken: " "$work/logs/merge-annotate.txt" || fail "merge does not list $broken"
check report "$work/project/.photosynth/report.json" "$shards" "$images" "$broken"
check report "$work/cutouts/.photosynth/report.json" "$shards" "$images" "$broken"

# Identical to one machine: annotations and labels byte for byte, the exports of both projects,
# the cut-outs and mattes.
diff -r "$work/reference_project/.photosynth/annotations" "$work/project/.photosynth/annotations" ||
  fail "annotations differ from the one-machine run"
/usr/bin/python3 -c "
import json, sys
a, b = (json.load(open(p + '/.photosynth/project.json'))['labels'] for p in sys.argv[1:])
sys.exit(0 if a == b else 'labels differ: %s vs %s' % (a, b))
" "$work/reference_project" "$work/project"
for project in reference_project project; do
  "$cli" export --project "$work/$project" --format png --out "$work/export-$project" >/dev/null ||
    fail "export of $project failed"
done
diff -r "$work/export-reference_project" "$work/export-project" ||
  fail "PNG mask exports differ from the one-machine run"
diff -r --exclude=.photosynth "$work/reference_cutouts" "$work/cutouts" ||
  fail "cut-outs differ from the one-machine run"
diff -r "$work/reference_mattes" "$work/mattes" || fail "mattes differ from the one-machine run"
# And they are real images: Pillow reads every matte, each with some foreground.
/usr/bin/python3 -c "
import os, sys
from PIL import Image
folder = sys.argv[1]
names = sorted(os.listdir(folder))
assert len(names) == int(sys.argv[2]), names
for name in names:
    image = Image.open(os.path.join(folder, name))
    assert image.mode == 'L' and image.getextrema()[1] > 0, name
print('mattes: %d read by Pillow' % len(names))
" "$work/mattes" "$images"
echo "PASS: $images images, $shards shards; identical to one machine; resumed after scancel"
