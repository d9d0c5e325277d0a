#!/usr/bin/env bash
# Times every stylised effect (and its matte blend) on a synthetic 24-megapixel image.
# Builds nothing: point PHOTOSYNTH_CLI at a built photosynth-cli (default build/app/photosynth-cli).
# Usage: scripts/bench_effects.sh [--iterations N] [--json FILE] [--width W --height H]
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${PHOTOSYNTH_CLI:-build/app/photosynth-cli}
if [ ! -x "$cli" ]; then
  echo "bench_effects.sh: $cli not found; build first (scripts/build.sh) or set PHOTOSYNTH_CLI" >&2
  exit 1
fi
exec "$cli" bench-effects --width 6000 --height 4000 "$@"
