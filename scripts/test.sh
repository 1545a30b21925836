#!/usr/bin/env bash
# Every test: set-up, both builds, host unit tests (cmocka), ACPI table checks
# (iasl, acpiexec), then the end-to-end boots on the nested arm64 test bed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/setup.sh
bash scripts/build.sh
echo "== unit and table tests (host)"
meson test -C build --print-errorlogs
echo "== end-to-end (nested arm64 KVM under qemu)"
python3 tests/e2e/run.py --vmm build-arm64/cli/vmm --vmmctl build-arm64/cli/vmmctl "$@"
