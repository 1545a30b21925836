#!/usr/bin/env bash
# Every test: set-up, both builds, host unit tests (cmocka), ACPI table checks
# (iasl, acpiexec), a short run of every fuzz target (FUZZ_SECONDS, default
# 15, each), the unit tests again under ASan+UBSan (the fuzz tree) and the
# threaded ones under TSan, then the end-to-end boots on the nested arm64 bed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/setup.sh
bash scripts/build.sh
echo "== unit and table tests (host)"
meson test -C build --print-errorlogs
echo "== fuzz targets, ${FUZZ_SECONDS:-15} s each (build-asan/: clang, ASan + UBSan)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)"
meson test -C build-asan --no-rebuild --suite unit --suite cli --print-errorlogs
echo "== threaded unit tests under ThreadSanitizer (build-tsan/)"
[ -f build-tsan/build.ninja ] || meson setup build-tsan -Db_sanitize=thread -Db_lundef=false >/dev/null
# The VM (vCPU threads, console, main loop), the API server and the devices;
# only their executables are built. TSan exits 66 on any report.
mapfile -t threaded < <(meson introspect build-tsan --tests | python3 -c '
import json, os, re, sys
for t in json.load(sys.stdin):
    if re.fullmatch(r"core_vm_.*|core_run|core_console.*|api_.*|devices_.*|virtio_.*", t["name"]):
        print(t["name"], os.path.relpath(t["cmd"][0], "build-tsan"))')
ninja --quiet -C build-tsan "${threaded[@]#* }"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	meson test -C build-tsan --no-rebuild --print-errorlogs "${threaded[@]%% *}"
echo "== end-to-end (nested arm64 KVM under qemu)"
python3 tests/e2e/run.py --vmm build-arm64/cli/vmm --vmmctl build-arm64/cli/vmmctl "$@"
