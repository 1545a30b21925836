#!/usr/bin/env bash
# Build the libFuzzer targets (build-asan/: clang, ASan + UBSan; the unit
# tests there run under the same sanitizers, see test.sh) and run each
# tests/fuzz/fuzz_<name> for SECONDS (default 60) on a scratch copy of its
# seed corpus tests/fuzz/corpus/<name>/. Fails if any target crashes, leaks,
# trips a sanitizer or an invariant; the input is kept in build-asan/crashes/.
# Usage: scripts/fuzz.sh [SECONDS] [NAME...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-60}
shift || true

b=build-asan
if [ ! -f $b/build.ninja ]; then
	CC=clang meson setup $b -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
elif ! grep -q 'tests/fuzz/fuzz_' $b/build.ninja; then	# a tree without the fuzz targets
	CC=clang meson setup --wipe $b -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja --quiet -C $b

names=("$@")
if [ "${#names[@]}" = 0 ]; then
	for src in tests/fuzz/fuzz_*.c; do
		n=${src##*/fuzz_}
		names+=("${n%.c}")
	done
fi
mkdir -p $b/crashes
failed=()
for name in "${names[@]}"; do
	exe=$b/tests/fuzz/fuzz_$name
	work=$(mktemp -d "${TMPDIR:-/tmp}/vmm-fuzz-$name.XXXXXX")
	[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
	log=$b/fuzz_$name.log
	# stderr of the target (VMM log lines) is closed; sanitizer reports still go to the log.
	if "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 \
		-print_final_stats=1 -artifact_prefix="$b/crashes/$name-" "$work" >"$log" 2>&1; then
		echo "fuzz $name: ok, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
			grep -o '[0-9]*$') runs in ${secs}s, corpus $(ls "$work" | wc -l) inputs"
	else
		echo "fuzz $name: FAILED (log: $log, input: $b/crashes/$name-*)"
		grep -E 'ERROR|runtime error|invariant|SUMMARY' "$log" | head -5 || true
		failed+=("$name")
	fi
	rm -rf "$work"
done
[ "${#failed[@]}" = 0 ] || { echo "fuzz: failed: ${failed[*]}"; exit 1; }
