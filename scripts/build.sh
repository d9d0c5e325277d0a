#!/usr/bin/env bash
# Configures and builds Photosynth in ./build (Release, -j2 unless JOBS is set).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j"${JOBS:-2}"
