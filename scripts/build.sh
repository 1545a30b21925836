#!/usr/bin/env bash
# Build both trees: build/ (x86_64 host: unit tests, vmm --dump-acpi) and
# build-arm64/ (the static aarch64 vmm and vmmctl that run on arm64 KVM).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -f build/build.ninja ] || meson setup build >/dev/null
[ -f build-arm64/build.ninja ] || meson setup build-arm64 --cross-file cross/aarch64-linux-gnu.ini >/dev/null
ninja -C build
ninja -C build-arm64
