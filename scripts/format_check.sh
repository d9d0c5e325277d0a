#!/usr/bin/env bash
# clang-format in check mode (the repository's .clang-format, Debian's clang-format 14).
#   scripts/format_check.sh                 every C++ file of core/, app/, ui/ and fuzz/ (CI)
#   scripts/format_check.sh --changed REV   only those changed since REV (before a commit:
#                                           --changed HEAD), committed or not
# Prints each file that clang-format would change with its first differences, and exits 1 if
# there is any. Fix with: clang-format -i FILE (keep an ATen include block apart from Qt's: Qt's
# `slots` macro breaks ATen headers included after it).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "format_check: clang-format is not installed (scripts/install-deps.sh --test)" >&2; exit 2; }
folders=(core app ui fuzz)
if [ "${1:-}" = "--changed" ]; then
    base=${2:?--changed needs a revision}
    mapfile -t files < <({ git diff --name-only "$base" -- "${folders[@]}"; git ls-files --others --exclude-standard -- "${folders[@]}"; } | sort -u)
else
    mapfile -t files < <(git ls-files -- "${folders[@]}")
fi
bad=0
checked=0
for f in "${files[@]}"; do
    case "$f" in *.h|*.cpp|*.cu|*.cuh) ;; *) continue ;; esac
    [ -f "$f" ] || continue
    checked=$((checked + 1))
    if ! diff -q <(clang-format "$f") "$f" >/dev/null; then
        bad=$((bad + 1))
        echo "== $f is not formatted:"
        diff <(clang-format "$f") "$f" | head -8
    fi
done
if [ "$bad" -gt 0 ]; then
    echo "format_check: $bad of $checked file(s) differ from clang-format's output"
    exit 1
fi
echo "format_check: $checked file(s) formatted"
