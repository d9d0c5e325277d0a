#!/usr/bin/env bash
# Fresh Debian bookworm machine -> the running app: install packages, build, start Photosynth.
# Extra arguments go to the app (e.g. an image to open).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec ./build/app/photosynth "$@"
