#!/usr/bin/env bash
# The Debian package: cpack makes it from the build folder; it holds both programs, the desktop
# entry and the icon; its control fields name real packages; and the programs, unpacked into a
# scratch root, run from there: nothing may still point into the build or source tree.
# Usage: test_deb.sh BUILD_DIR SOURCE_DIR DEFAULT_GOLDEN_DIR   ($PHOTOSYNTH_GOLDEN wins)
set -euo pipefail
build_dir="$(cd "$1" && pwd)"
source_dir="$(cd "$2" && pwd)"
golden="${PHOTOSYNTH_GOLDEN:-$3}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# --- the package -----------------------------------------------------------------------------
if ! (cd "$build_dir" && cpack -G DEB -B "$scratch/out") >"$scratch/cpack.log" 2>&1; then
    cat "$scratch/cpack.log" >&2
    echo "FAIL: cpack -G DEB in $build_dir" >&2
    exit 1
fi
debs=("$scratch"/out/photosynth_*.deb)
if [ ${#debs[@]} -ne 1 ] || [ ! -s "${debs[0]}" ]; then
    ls -l "$scratch/out" >&2
    echo "FAIL: expected one photosynth_*.deb from cpack" >&2
    exit 1
fi
deb="${debs[0]}"
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

# --- control fields --------------------------------------------------------------------------
control="$(dpkg-deb -I "$deb")" || fail "dpkg-deb -I cannot read the package"
grep -q '^ Package: photosynth$' <<<"$control" || fail "dpkg-deb -I shows no 'Package: photosynth'"
for field in Package Version Architecture Maintainer Section Depends Description; do
    [ -n "$(dpkg-deb -f "$deb" "$field")" ] || fail "control field $field is missing or empty"
done
[ "$(dpkg-deb -f "$deb" Package)" = photosynth ] || fail "Package is not photosynth"
[ "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)" ] ||
    fail "Architecture is not $(dpkg --print-architecture)"
depends="$(dpkg-deb -f "$deb" Depends)"
echo "Depends: $depends"
# The libraries the programs link (found by dpkg-shlibdeps) and the Qt plugins they dlopen.
for needed in libtorch libqt6widgets6 libqt6charts6 libqt6network6 libqt6gui6 libopencv-core \
    libopencv-imgproc qt6-qpa-plugins qt6-image-formats-plugins; do
    [[ ",$depends" =~ [,|][[:space:]]*${needed}[a-z0-9.-]*([[:space:]]|,|$) ]] ||
        fail "Depends names no $needed*"
done
# Every dependency names a package this machine knows, at a version it has where installed.
IFS=',' read -ra groups <<<"$depends"
for group in "${groups[@]}"; do
    satisfied=""
    IFS='|' read -ra alternatives <<<"$group"
    for alternative in "${alternatives[@]}"; do
        read -r name relation version <<<"$(echo "$alternative" | tr -d '()')"
        installed="$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null)" || installed=""
        if [ -n "$installed" ]; then
            if [ -z "${relation:-}" ] || dpkg --compare-versions "$installed" "$relation" "$version"; then
                satisfied=1
            fi
        elif apt-cache show "$name" >/dev/null 2>&1; then
            satisfied=1  # a known package, not installed here (qt6-image-formats-plugins)
        fi
    done
    [ -n "$satisfied" ] || fail "no package here satisfies the dependency '${group# }'"
done

# --- contents --------------------------------------------------------------------------------
root="$scratch/root"
dpkg-deb -x "$deb" "$root" || fail "dpkg-deb -x"
desktop="$root/usr/share/applications/photosynth.desktop"
icon="$root/usr/share/icons/hicolor/scalable/apps/photosynth.svg"
for program in photosynth photosynth-cli; do
    [ -x "$root/usr/bin/$program" ] || fail "usr/bin/$program is missing or not executable"
done
[ -f "$desktop" ] || fail "usr/share/applications/photosynth.desktop is missing"
grep -q "<svg" "$icon" 2>/dev/null || fail "usr/share/icons/hicolor/scalable/apps/photosynth.svg is no SVG"
if [ -f "$desktop" ]; then
    grep -qx 'Exec=photosynth %F' "$desktop" || fail "desktop entry: Exec is not 'photosynth %F'"
    grep -qx 'Icon=photosynth' "$desktop" || fail "desktop entry: Icon is not photosynth"
    grep -qE '^Categories=(.*;)?Graphics;' "$desktop" || fail "desktop entry: Categories lacks Graphics;"
    for mime in image/png image/jpeg image/bmp image/tiff image/webp image/gif; do
        grep -qE "^MimeType=(.*;)?$mime;" "$desktop" || fail "desktop entry: MimeType lacks $mime"
    done
    if command -v desktop-file-validate >/dev/null; then
        if desktop-file-validate "$desktop"; then
            echo "desktop-file-validate: ok"
        else
            fail "desktop-file-validate rejects the desktop entry"
        fi
    else
        echo "desktop-file-validate: not installed (desktop-file-utils), skipped"
    fi
fi

# --- no path back into the build --------------------------------------------------------------
# A build-tree RPATH would let the unpacked programs run on libraries a real install lacks.
for program in photosynth photosynth-cli; do
    dynamic="$(readelf -d "$root/usr/bin/$program" | grep -E '\((RPATH|RUNPATH)\)' || true)"
    echo "$program RPATH/RUNPATH: ${dynamic:-none}"
    case "$dynamic" in
        *"$build_dir"* | *"$source_dir"*) fail "$program keeps a path into the build: $dynamic" ;;
    esac
    if grep -qF "$build_dir" "$root/usr/bin/$program"; then
        fail "$program contains the build folder's path $build_dir"
    fi
done

# --- the unpacked programs run ---------------------------------------------------------------
# From the scratch folder, with no library path and a private home, so that only the package,
# the system's libraries and the inputs can be found.
cd "$scratch"
run() { env -u LD_LIBRARY_PATH HOME="$scratch/home" XDG_CONFIG_HOME="$scratch/home/.config" \
    XDG_DATA_HOME="$scratch/home/.local/share" XDG_CACHE_HOME="$scratch/home/.cache" \
    XDG_RUNTIME_DIR="$scratch/runtime" "$@"; }
mkdir -p "$scratch/home" && mkdir -m 700 "$scratch/runtime"
checkpoint="$golden/sam_vit_tiny.pth"
if run timeout 60 "$root/usr/bin/photosynth-cli" info "$checkpoint" >"$scratch/info.txt" 2>&1 &&
    grep -q '^family: sam$' "$scratch/info.txt"; then
    echo "photosynth-cli info: $(head -1 "$scratch/info.txt")"
else
    cat "$scratch/info.txt" >&2
    fail "the unpacked photosynth-cli info $checkpoint"
fi

image="$golden/images/astronaut_crop.png"
shot="$scratch/shot.png"
# --screenshot grabs the window once the image is open and quits; 124 is timeout's verdict.
status=0
run QT_QPA_PLATFORM=offscreen timeout 90 "$root/usr/bin/photosynth" --screenshot "$shot" "$image" \
    >"$scratch/app.log" 2>&1 || status=$?
if [ "$status" -eq 0 ] && [ -s "$shot" ] &&
    [ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
    echo "photosynth --screenshot: $(stat -c %s "$shot") bytes of PNG"
else
    cat "$scratch/app.log" >&2
    fail "the unpacked photosynth (exit $status) wrote no PNG screenshot of $image"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "ok: $(basename "$deb") installs and runs"
