#!/bin/sh
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan) in build-fuzz/ and runs one.
#   scripts/fuzz.sh build                      configure + build every target
#   scripts/fuzz.sh run TARGET [SECONDS]       fuzz TARGET (pickle, safetensors, torch_zip,
#                                              image, json, coco, labelme) for SECONDS
#                                              (default 600)
# A run starts from fuzz/corpus/TARGET and fuzz/regressions/TARGET, grows a working corpus in
# build-fuzz/corpus/TARGET (not committed), and writes crashes to build-fuzz/crashes/TARGET/.
# Keep a crashing input as fuzz/regressions/TARGET/<what>.bin once it is fixed: ctest's
# fuzz_replay_TARGET then runs it every time. Needs clang and libclang-rt-14-dev (Debian).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
lock=/tmp/ps-build.lock

case "${1:-}" in
build)
    flock "$lock" cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ \
        -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPHOTOSYNTH_FUZZ=ON \
        -DPHOTOSYNTH_BUILD_GUI=OFF -DPHOTOSYNTH_BUILD_TESTS=OFF >/dev/null
    flock "$lock" cmake --build "$build" -j2 --target fuzz_pickle fuzz_safetensors \
        fuzz_torch_zip fuzz_image fuzz_json fuzz_coco fuzz_labelme
    ;;
run)
    target=${2:?target name}
    seconds=${3:-600}
    mkdir -p "$build/corpus/$target" "$build/crashes/$target"
    seeds="$root/fuzz/corpus/$target"
    [ -d "$root/fuzz/regressions/$target" ] && seeds="$seeds $root/fuzz/regressions/$target"
    export QT_QPA_PLATFORM=offscreen TMPDIR="${TMPDIR:-/tmp}"
    # The first folder is where libFuzzer adds new inputs; the committed ones stay as they are.
    # shellcheck disable=SC2086
    exec nice -n 19 "$build/fuzz/fuzz_$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$build/crashes/$target/" \
        "$build/corpus/$target" $seeds
    ;;
*)
    sed -n '2,11p' "$0"
    exit 2
    ;;
esac
