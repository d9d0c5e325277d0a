#!/usr/bin/env bash
# The folder rules of docs/architecture.md, checked on the sources instead of by eye:
#  1. a model family (core/models/<family>/) includes from models/ only its own folder and
#     models/runtime/; the runtime includes no family;
#  2. core/ includes nothing of ui/ or app/ and no Qt Widgets;
#  3. only core/engine/ reaches the engine's scheduler or thread pool: the app, the CLI and the
#     rest of core go through the Engine's façade (run_task, run_waiting_task, matte, ...);
#  4. core/engine/ includes nothing of core/video/ (video uses the engine: tracking takes a frame
#     callback, video::open_tracking adapts a FrameSource to it).
# Prints each violation as "file:line: include" and exits 1 if there is any.
# usage: tests/architecture/check_includes.sh [SOURCE_ROOT]
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 2
violations=0
report() {
    echo "$1: $2"
    violations=$((violations + 1))
}

for dir in core/models/*/; do
    family=$(basename "$dir")
    while IFS=: read -r file line text; do
        used=$(sed -n 's|.*#include "models/\([^/]*\)/.*|\1|p' <<<"$text")
        [ -z "$used" ] && continue
        if [ "$family" = runtime ]; then
            [ "$used" != runtime ] && report "$file:$line" "the runtime includes family '$used': $text"
        elif [ "$used" != runtime ] && [ "$used" != "$family" ]; then
            report "$file:$line" "family '$family' includes family '$used': $text"
        fi
    done < <(grep -rn --include='*.h' --include='*.cpp' --include='*.cu' --include='*.cuh' \
        '#include "models/' "$dir")
done

while IFS= read -r hit; do
    report "${hit%%:#*}" "core includes the user interface: ${hit#*:*:}"
done < <(grep -rnE --include='*.h' --include='*.cpp' \
    '#include ["<](ui/|app/|QtWidgets|QWidget|QMainWindow|QDialog|QApplication|QLabel|QPushButton)' core)

while IFS= read -r hit; do
    report "${hit%%:*}:$(cut -d: -f2 <<<"$hit")" "reaches the engine's scheduler: ${hit#*:*:}"
done < <(grep -rnE --include='*.h' --include='*.cpp' '(\.|->)(scheduler|pool)\(\)' \
    app ui core | grep -v '^core/engine/')

while IFS= read -r hit; do
    report "${hit%%:#*}" "the engine includes core/video: ${hit#*:*:}"
done < <(grep -rnE --include='*.h' --include='*.cpp' '#include "video/' core/engine)

if [ "$violations" -gt 0 ]; then
    echo "$violations violation(s) of the folder rules of docs/architecture.md"
    exit 1
fi
echo "folder rules hold: $(find core/models -mindepth 1 -maxdepth 1 -type d | wc -l) model folders, core free of widgets, the scheduler behind the engine"
