#!/usr/bin/env bash
# Fetch an arm64 QEMU 10 (Debian bookworm-backports) plus every arm64 shared
# library it needs, and edk2 for arm64 (qemu-efi-aarch64), into the
# git-ignored .cache/qemu-arm64/. Used only by tests/e2e/bench_vs_qemu.py,
# which packs the tree into the L1 initramfs to compare vmm with QEMU+KVM
# inside the same emulated machine. Run by hand before that benchmark; it is
# deliberately not part of scripts/setup.sh, scripts/test.sh or CI.
#
# qemu-system-common and qemu-system-data are not fetched: with -nodefaults,
# no NIC and no display, QEMU loads none of their modules or ROMs, and the
# firmware comes from qemu-efi-aarch64.
#
# Needs what scripts/setup.sh configures: the arm64 foreign architecture and
# the bookworm-backports source. Nothing is installed: packages are fetched
# with `apt-get download` and unpacked with `dpkg-deb -x`.
#
# Result (bench_vs_qemu.py packs it into the L1 initramfs as /qemu):
#   .cache/qemu-arm64/bin/qemu-system-aarch64
#   .cache/qemu-arm64/lib/          ld-linux-aarch64.so.1 and the .so closure
#   .cache/qemu-arm64/share/QEMU_EFI.fd
#   .cache/qemu-arm64/VERSION
# Run in L1:  /qemu/lib/ld-linux-aarch64.so.1 --library-path /qemu/lib \
#                 /qemu/bin/qemu-system-aarch64 ...
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/.cache/qemu-arm64"
debs="$top/.cache/debs/qemu-arm64"
log() { echo "fetch-qemu-arm64: $*"; }
die() { log "$*" >&2; exit 1; }

dpkg --print-foreign-architectures | grep -qx arm64 ||
	die "the arm64 architecture is not configured: run scripts/setup.sh first"
command -v aarch64-linux-gnu-readelf >/dev/null ||
	die "aarch64-linux-gnu-readelf missing (binutils-aarch64-linux-gnu; scripts/setup.sh installs it)"

ver=$(apt-cache madison qemu-system-arm:arm64 | awk -F' *[|] *' '$3 ~ /bookworm-backports/ {print $2; exit}')
[ -n "$ver" ] || die "no qemu-system-arm:arm64 in bookworm-backports (run scripts/setup.sh, then apt-get update)"
log "qemu-system-arm:arm64 $ver"

if [ -f "$out/.complete" ] && [ "$(cat "$out/VERSION" 2>/dev/null)" = "$ver" ]; then
	log "already fetched: $out"
	exit 0
fi

# Shared-library closure, by package: the Depends/Pre-Depends of
# qemu-system-arm, then of those, until nothing new appears. Only library
# packages (archive section "libs": lib*, zlib1g, libc6 ...) are followed.
lib_deps() {   # package... -> the library packages they depend on, one per line
	local deps
	mapfile -t deps < <(apt-cache depends --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "$@" 2>/dev/null |
		awk '$1 ~ /^[|]?(Pre)?Depends:$/ && $2 !~ /^</ {sub(/:arm64$/, "", $2); print $2 ":arm64"}' |
		sort -u)
	[ "${#deps[@]}" -gt 0 ] || return 0
	apt-cache show --no-all-versions "${deps[@]}" 2>/dev/null |
		awk '/^Package:/ {p = $2} /^Section:/ && $2 == "libs" {print p}' | sort -u
}
declare -A seen=()
todo=$(lib_deps "qemu-system-arm:arm64=$ver")
while [ -n "$todo" ]; do
	next=()
	for p in $todo; do
		[ -n "${seen[$p]:-}" ] && continue
		seen[$p]=1
		next+=("$p:arm64")
	done
	[ "${#next[@]}" -gt 0 ] || break
	todo=$(lib_deps "${next[@]}")
done
mapfile -t libs < <(printf '%s\n' "${!seen[@]}" | sort)
[ -n "${seen[libc6]:-}" ] || die "libc6 is not in the closure (apt-cache depends failed?)"
log "${#libs[@]} library packages: ${libs[*]}"

rm -rf "$debs" && mkdir -p "$debs"
(
	cd "$debs"
	apt-get download -q "qemu-system-arm:arm64=$ver" qemu-efi-aarch64 \
		"${libs[@]/%/:arm64}" >download.log 2>&1
) || { tail -20 "$debs/download.log" >&2; die "apt-get download failed"; }

rm -rf "$out.tmp" && mkdir -p "$out.tmp/root" "$out.tmp/bin" "$out.tmp/lib" "$out.tmp/share"
for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$out.tmp/root"; done
root="$out.tmp/root"

cp "$root/usr/bin/qemu-system-aarch64" "$out.tmp/bin/"
efi=$(ls "$root"/usr/share/qemu-efi-aarch64/QEMU_EFI.fd 2>/dev/null || true)
[ -n "$efi" ] || die "QEMU_EFI.fd not found in qemu-efi-aarch64"
cp -L "$efi" "$out.tmp/share/QEMU_EFI.fd"

# Copy exactly the libraries the binary needs (DT_NEEDED, recursively),
# dereferencing symlinks, plus the dynamic loader. Anything not found is an
# error: the package closure above missed it.
libdirs=("$root/lib/aarch64-linux-gnu" "$root/usr/lib/aarch64-linux-gnu" "$root/lib" "$root/usr/lib")
find_so() {
	for d in "${libdirs[@]}"; do [ -e "$d/$1" ] && { echo "$d/$1"; return 0; }; done
	return 1
}
needed() { aarch64-linux-gnu-readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
queue=("$out.tmp/bin/qemu-system-aarch64")
declare -A have=()
missing=()
while [ "${#queue[@]}" -gt 0 ]; do
	f=${queue[0]}; queue=("${queue[@]:1}")
	for so in $(needed "$f"); do
		[ -n "${have[$so]:-}" ] && continue
		have[$so]=1
		if src=$(find_so "$so"); then
			cp -L "$src" "$out.tmp/lib/$so"
			queue+=("$out.tmp/lib/$so")
		else
			missing+=("$so")
		fi
	done
done
[ "${#missing[@]}" -eq 0 ] || die "libraries not found in the downloaded packages: ${missing[*]}"
ld=$(find_so ld-linux-aarch64.so.1) || die "ld-linux-aarch64.so.1 not found (libc6:arm64)"
cp -L "$ld" "$out.tmp/lib/ld-linux-aarch64.so.1"
chmod 755 "$out.tmp/lib/ld-linux-aarch64.so.1" "$out.tmp/bin/qemu-system-aarch64"

rm -rf "$root"
echo "$ver" >"$out.tmp/VERSION"
touch "$out.tmp/.complete"
rm -rf "$out" && mv "$out.tmp" "$out"
log "ready: $out ($(du -sh "$out" | cut -f1): $(find "$out/lib" -type f | wc -l) libraries," \
	"QEMU_EFI.fd $(du -h "$out/share/QEMU_EFI.fd" | cut -f1))"
