#!/usr/bin/env bash
# Configures and builds Photosynth in ./build (Release, -j2 unless JOBS is set), against the first
# LibTorch found of: $LIBTORCH_DIR; a CUDA PyTorch importable by python3 (PATH, then
# /usr/bin/python3); Debian's libtorch-dev (CPU). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."

# The CMake prefix of a CUDA build of PyTorch importable by the python $1, or nothing. A CPU
# PyTorch (Debian's python3-torch is 1.13 CPU, the same as libtorch-dev) is no reason to leave
# the default. Wheels built with the pre-C++11 ABI (PyTorch < 2.7) cannot link with the
# distribution's Qt and OpenCV, so they are passed over with a note.
cuda_torch_prefix() {
    "$1" - <<'EOF' || true
import sys
try:
    import torch
    import torch.utils
except Exception:  # no PyTorch here, or a broken one: not a candidate
    sys.exit()
if torch.version.cuda:
    if torch._C._GLIBCXX_USE_CXX11_ABI:
        print(torch.utils.cmake_prefix_path)
    else:
        print("skipping PyTorch %s (CUDA %s) of %s: built with the pre-C++11 ABI, which cannot "
              "link with Qt and OpenCV; set LIBTORCH_DIR to a cxx11-ABI LibTorch"
              % (torch.__version__, torch.version.cuda, sys.executable), file=sys.stderr)
EOF
}

torch_prefix=""
if [ -n "${LIBTORCH_DIR:-}" ]; then
    torch_prefix="$LIBTORCH_DIR"
    echo "LibTorch: $LIBTORCH_DIR (from LIBTORCH_DIR)"
else
    tried=""
    for python in python3 /usr/bin/python3; do
        python="$(command -v "$python" 2>/dev/null)" || continue
        [[ " $tried " == *" $(readlink -f "$python") "* ]] && continue
        tried="$tried $(readlink -f "$python")"
        torch_prefix="$(cuda_torch_prefix "$python")"
        if [ -n "$torch_prefix" ]; then
            echo "LibTorch: the CUDA PyTorch of $python ($torch_prefix)"
            break
        fi
    done
    [ -n "$torch_prefix" ] ||
        echo "LibTorch: Debian's libtorch-dev (CPU; set LIBTORCH_DIR or install a CUDA PyTorch for the GPU build)"
fi

# The chosen prefix goes first in CMAKE_PREFIX_PATH, joined with one given on the command line.
cmake_args=()
for argument in "$@"; do
    if [ -n "$torch_prefix" ] && [[ "$argument" == -DCMAKE_PREFIX_PATH*=* ]]; then
        argument="${argument%%=*}=$torch_prefix;${argument#*=}"
        torch_prefix_given=1
    fi
    cmake_args+=("$argument")
done
if [ -n "$torch_prefix" ] && [ -z "${torch_prefix_given:-}" ]; then
    cmake_args=("-DCMAKE_PREFIX_PATH=$torch_prefix" "${cmake_args[@]}")
fi

# find_package(Torch) keeps the Torch_DIR of a build folder's first configure.
if cached=$(grep -s '^Torch_DIR:' build/CMakeCache.txt); then
    cached="${cached#*=}"
    expected="${torch_prefix:-/usr}"
    [[ "$cached" == "$expected"* ]] ||
        echo "note: build/ keeps the LibTorch it was configured with ($cached); remove build/ to switch"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${cmake_args[@]}"
cmake --build build -j"${JOBS:-2}"
