#!/usr/bin/env bash
# Makes docs/screenshot.png: the real app under Xvfb with an image, prompt points, a mask and the
# metrics dock. Needs the build (scripts/build.sh) and `apt-get install xvfb xauth`.
# Usage: scripts/screenshot.sh [CHECKPOINT]   (none: the built-in GrabCut answers the clicks;
# the golden SAM checkpoints have random weights, so their masks are noise, not objects)
set -euo pipefail
cd "$(dirname "$0")/.."
golden=${PHOTOSYNTH_GOLDEN:-../shared/golden}
model_args=()
[ $# -ge 1 ] && model_args=(-m "$1")
mkdir -p docs
xvfb-run -a -s "-screen 0 1600x1000x24" ./build/app/photosynth "${model_args[@]}" \
  "$golden/images/coffee.png" -p 300,190,1 -p 60,360,0 --screenshot docs/screenshot.png
echo "wrote docs/screenshot.png"
