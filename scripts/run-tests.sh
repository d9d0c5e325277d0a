#!/usr/bin/env bash
# Fresh Debian bookworm machine -> every test: install packages (with the test-only ones, such
# as labelme), build, run ctest.
# Golden references come from $PHOTOSYNTH_GOLDEN, else ../shared/golden beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
bash scripts/build.sh
cd build
QT_QPA_PLATFORM=offscreen ctest --output-on-failure --timeout 1200
