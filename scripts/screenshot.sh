#!/usr/bin/env bash
# Makes the README's screenshots from the real app under Xvfb: docs/screenshot.png (1366×768),
# docs/screenshot_scale15.png (1920×1080 at QT_SCALE_FACTOR=1.5), docs/panel_background.png and
# docs/panel_effects.png (results before / after on the canvas) and docs/annotate.png (a project).
# Needs the build (scripts/build.sh) and `apt-get install xvfb xauth`.
# Usage: scripts/screenshot.sh [CHECKPOINT]   (none: the built-in GrabCut answers the clicks;
# the golden SAM checkpoints have random weights, so their masks are noise, not objects)
set -euo pipefail
cd "$(dirname "$0")/.."
golden=${PHOTOSYNTH_GOLDEN:-../shared/golden}
app=./build/app/photosynth
model_args=()
[ $# -ge 1 ] && model_args=(-m "$1")
mkdir -p docs
# A fresh settings folder: the default layout, not whatever this machine's user arranged.
export XDG_CONFIG_HOME=$(mktemp -d)
scratch=$(mktemp -d)
trap 'rm -rf "$XDG_CONFIG_HOME" "$scratch"' EXIT

shot() {  # shot SCREEN OUT [app arguments…]
  local screen=$1 out=$2
  shift 2
  rm -rf "$XDG_CONFIG_HOME/Photosynth"
  xvfb-run -a -s "-screen 0 ${screen}x24" "$app" "${model_args[@]}" "$@" --screenshot "$out"
  echo "wrote $out"
}

shot 1366x768 docs/screenshot.png "$golden/images/coffee.png" -p 300,190,1 -p 60,360,0
QT_SCALE_FACTOR=1.5 shot 1920x1080 docs/screenshot_scale15.png "$golden/images/coffee.png" -p 300,190,1
shot 1366x768 docs/panel_background.png --panel background "$golden/images/coffee.png" -p 300,190,1
shot 1366x768 docs/panel_effects.png --panel effects "$golden/images/astronaut_crop.png"

project="$scratch/project"
mkdir -p "$project"
cp "$golden/images/astronaut_crop.png" "$golden/images/coffee.png" "$project/"
shot 1366x768 docs/annotate.png --project "$project" -p label=person -p 120,330,1 -p accept -p done \
  -p label=object -p 300,150,1 -p accept -p 450,120,1
