#!/usr/bin/env bash
# Exports and imports all or nothing, checked for real (issue 14 item 4): a YOLO re-export and a
# COCO import onto a full 256 KiB tmpfs; SIGKILLs at random moments of the writing phase of
# exports alternating two projects into one folder, and of an import into an existing project. Needs root (a tmpfs in a private mount namespace: unshare -m).
# usage: scripts/atomic_exports.sh [build/app/photosynth-cli] [kill rounds]
set -u
CLI=$(realpath "${1:-build/app/photosynth-cli}")
ROUNDS=${2:-60}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 "$(dirname "$0")/atomic_exports_dataset.py" "$WORK"
cd "$WORK"
for v in A B; do "$CLI" import --format coco --input coco_$v.json --project proj$v --image-dir images >/dev/null; done
listing() { (cd "$1" && find . -type f | sort | xargs md5sum); }

echo "== full disk"
unshare -m bash -c '
  CLI=$1; listing() { (cd "$1" && find . -type f | sort | xargs md5sum); }
  mkdir -p disk && mount -t tmpfs -o size=256k tmpfs disk
  "$CLI" export --project projA --format yolo --out disk/yolo >/dev/null; listing disk/yolo > old.md5
  dd if=/dev/zero of=disk/filler bs=4k count=$(( $(df -k disk | awk "NR==2{print \$4}") / 4 - 10 )) 2>/dev/null
  "$CLI" export --project projB --format yolo --out disk/yolo; echo "re-export, 40 KiB free: exit $?"
  [ "$(listing disk/yolo)" = "$(cat old.md5)" ] && echo "old export unchanged ($(wc -l < old.md5) files)" || echo "FAIL: old export changed"
  echo "disk holds: $(ls -A disk | tr "\n" " ")"
  rm disk/filler; "$CLI" export --project projB --format yolo --out disk/yolo >/dev/null; echo "with room: exit $?, disk holds: $(ls -A disk | tr "\n" " ")"
  rm -rf disk/yolo; cp -a projA disk/project; listing disk/project > old.md5
  dd if=/dev/zero of=disk/filler bs=4k count=$(( $(df -k disk | awk "NR==2{print \$4}") / 4 - 10 )) 2>/dev/null
  "$CLI" import --format coco --input coco_B.json --project disk/project; echo "import, 40 KiB free: exit $?"
  [ "$(listing disk/project)" = "$(cat old.md5)" ] && echo "project unchanged ($(wc -l < old.md5) files)" || echo "FAIL: project changed"
  echo "project folder holds: $(ls -A disk/project | tr "\n" " ")"
' _ "$CLI"

echo "== SIGKILL during the writing phase, $ROUNDS rounds"
for v in A B; do "$CLI" export --project proj$v --format yolo --out set$v >/dev/null; listing set$v > set$v.md5; done
"$CLI" export --project projA --format yolo --out kout >/dev/null; current=A
old=0; new=0; marker=0; mixed=0; problems=0
for i in $(seq 1 "$ROUNDS"); do
  next=$([ $current = A ] && echo B || echo A)
  "$CLI" export --project proj$next --format yolo --out kout >/dev/null 2>&1 & pid=$!
  # Kill once the staging folder exists, after a random 0-300 ms more.
  while kill -0 $pid 2>/dev/null && ! ls -a | grep -q '^\.kout\.tmp-'; do sleep 0.002; done
  sleep "$(awk -v s=$i 'BEGIN{srand(s); printf "%.3f", rand()*0.3}')"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  got=$(listing kout)
  if ls -a | grep -q '^\.kout\.tmp-.*\.commit$'; then marker=$((marker+1))
  elif [ "$got" = "$(cat set$current.md5)" ]; then old=$((old+1))
  elif [ "$got" = "$(cat set$next.md5)" ]; then new=$((new+1))
  else mixed=$((mixed+1)); echo "round $i: FAIL: a mix of two exports"; fi
  "$CLI" export --project proj$current --format yolo --out kout >/dev/null || problems=$((problems+1))
  [ "$(listing kout)" = "$(cat set$current.md5)" ] || { problems=$((problems+1)); echo "round $i: FAIL: next run incomplete"; }
  ls -a | grep -q '^\.kout\.tmp-' && { problems=$((problems+1)); echo "round $i: FAIL: staging left after the next run"; }
done
echo "after a kill: old export whole $old, new export whole $new, in a marked commit (finished by the next run) $marker, mixed $mixed; next-run problems $problems"

echo "== SIGKILL during an import into an existing project, $ROUNDS rounds"
# base: coco_A imported; after: base with coco_B imported too. A killed import of coco_B into a
# copy of base must leave, once the project is next opened, exactly one of the two.
"$CLI" import --format coco --input coco_A.json --project base --image-dir images >/dev/null
cp -a base after_import
"$CLI" import --format coco --input coco_B.json --project after_import >/dev/null
listing base/.photosynth > base.md5; listing after_import/.photosynth > after.md5
old=0; new=0; marker=0; mixed=0
for i in $(seq 1 "$ROUNDS"); do
  rm -rf kproj; cp -a base kproj
  "$CLI" import --format coco --input coco_B.json --project kproj >/dev/null 2>&1 & pid=$!
  while kill -0 $pid 2>/dev/null && ! ls -a kproj | grep -q '^\.\.photosynth\.tmp-'; do sleep 0.001; done
  sleep "$(awk -v s=$i 'BEGIN{srand(s); printf "%.3f", rand()*0.04}')"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  ls -a kproj | grep -q '^\.\.photosynth\.tmp-.*\.commit$' && marker=$((marker+1))
  # Any command that opens the project finishes or removes what the kill left.
  "$CLI" export --project kproj --format coco --out kexport >/dev/null; rm -rf kexport
  got=$(listing kproj/.photosynth)
  if [ "$got" = "$(cat base.md5)" ]; then old=$((old+1))
  elif [ "$got" = "$(cat after.md5)" ]; then new=$((new+1))
  else mixed=$((mixed+1)); echo "round $i: FAIL: a mix of two states"; fi
  ls -a kproj | grep -q 'tmp-' && { mixed=$((mixed+1)); echo "round $i: FAIL: staging left after the next open"; }
done
echo "after a kill and the next open: project as before $old, import whole $new (of which $marker killed after the commit marker), mixed $mixed"
