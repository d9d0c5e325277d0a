#!/usr/bin/env bash
# Installs the Debian bookworm packages Photosynth builds and runs against (only missing ones).
# libopenblas0-openmp matters: Debian's LibTorch multiplies matrices through the system BLAS, and
# the reference BLAS is ~8x slower (4.3 vs 33 GFLOP/s on a 2048^3 product, 2 cores).
# qt6-image-formats-plugins: Qt reads TIFF and WebP only through its plugins (dlopen'ed, so no
# build step notices their absence; the image reader then names the package).
# --test also installs what only the tests use: labelme (its labelme_json_to_dataset renders our
# LabelMe exports in tests/annotation/test_formats), and for tests/packaging/test_deb.sh what
# `cpack -G DEB` uses (dpkg-shlibdeps from dpkg-dev, file) and desktop-file-validate
# (desktop-file-utils), and clang-format for scripts/format_check.sh (CI), and slurm-wlm and
# munge for tests/cluster (a one-node Slurm cluster, scripts/slurm_local_cluster.sh); the app
# itself needs none of them.
set -euo pipefail
packages=(cmake g++ make pkg-config libtorch-dev qt6-base-dev qt6-charts-dev libopencv-dev
          libopenblas0-openmp libgl-dev qt6-image-formats-plugins)
for argument in "$@"; do
  case "$argument" in
    --test) packages+=(labelme dpkg-dev file desktop-file-utils clang-format slurm-wlm munge) ;;
    *) echo "usage: $0 [--test]" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
