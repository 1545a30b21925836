#!/usr/bin/env bash
# Set up, build, and show a guest with a disk and vCPU hotplug: it boots with 1 vCPU and sees /dev/vda, vmmctl
# grows it to 4 and shrinks it back to 1, and the guest shows its CPUs.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/setup.sh
bash scripts/build.sh >/dev/null
exec python3 tests/e2e/demo.py --vmm build-arm64/cli/vmm --vmmctl build-arm64/cli/vmmctl "$@"
