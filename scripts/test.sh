#!/usr/bin/env bash
# Every test: set-up, both builds, host unit tests (cmocka), ACPI table checks
# (iasl, acpiexec), the unit tests again under ASan+UBSan and the threaded
# ones under TSan, a short run of every fuzz target, then the end-to-end boots
# on the nested arm64 test bed. FUZZ_SECONDS (default 20) per fuzz target.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/setup.sh
bash scripts/build.sh
echo "== unit and table tests (host)"
meson test -C build --print-errorlogs
echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)"
[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined \
	-Db_lundef=false -Dc_args=-fno-sanitize-recover=all >/dev/null
meson test -C build-asan --suite unit --suite cli --print-errorlogs
echo "== threaded unit tests under ThreadSanitizer (build-tsan/)"
[ -f build-tsan/build.ninja ] || meson setup build-tsan -Db_sanitize=thread -Db_lundef=false >/dev/null
ninja -C build-tsan >/dev/null
# TSan exits 66 on any report. The VM (vCPU threads, API, console) and the API server tests.
mapfile -t threaded < <(meson test -C build-tsan --list 2>/dev/null | sed -n 's/^vmm:unit \/ \(core_vm_.*\|core_run\|core_console.*\|api_.*\|devices_.*\)$/\1/p')
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	meson test -C build-tsan --no-rebuild --print-errorlogs "${threaded[@]}"
echo "== fuzz targets, ${FUZZ_SECONDS:-20} s each (build-fuzz/)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
echo "== end-to-end (nested arm64 KVM under qemu)"
python3 tests/e2e/run.py --vmm build-arm64/cli/vmm --vmmctl build-arm64/cli/vmmctl "$@"
