#!/usr/bin/env bash
# One-command set-up for a Debian 12 (bookworm) x86_64 machine: toolchains,
# libraries, the arm64 emulator, and the guest kernel + busybox fetched from
# Debian's archive into the git-ignored cache (.cache/). Idempotent.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache="$top/.cache"
mkdir -p "$cache/debs"

log() { echo "setup: $*"; }
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

need_update=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	log "adding the arm64 architecture"
	$SUDO dpkg --add-architecture arm64
	need_update=1
fi
bp=/etc/apt/sources.list.d/vmm-bookworm-backports.sources
if [ ! -f "$bp" ]; then
	log "adding bookworm-backports"
	$SUDO tee "$bp" >/dev/null <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Architectures: amd64 arm64
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	need_update=1
fi
# Restrict the base Debian sources to amd64+arm64 so a third-party source
# without arm64 does not break the update.
stamp="$cache/apt-updated"
if [ "$need_update" = 1 ] || [ ! -f "$stamp" ]; then
	log "apt-get update"
	$SUDO apt-get update -q -o APT::Get::List-Cleanup=0 >"$cache/apt-update.log" 2>&1 ||
		log "apt-get update reported errors (see $cache/apt-update.log); continuing"
	touch "$stamp"
fi

host_pkgs=(meson ninja-build pkg-config gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	libfdt-dev libevent-dev libcmocka-dev libjson-c-dev liburing-dev libhttp-parser-dev
	acpica-tools device-tree-compiler cpio python3 e2fsprogs
	clang libclang-rt-14-dev)	# libFuzzer and the sanitizer runtimes for scripts/fuzz.sh
missing=()
for p in "${host_pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ! dpkg -s qemu-system-arm 2>/dev/null | grep -q '^Version: 1:1[0-9]'; then
	missing+=(qemu-system-arm/bookworm-backports qemu-system-common/bookworm-backports
		qemu-system-data/bookworm-backports)
fi
if [ "${#missing[@]}" -gt 0 ]; then
	log "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" \
		>"$cache/apt-install.log" 2>&1 || { tail -30 "$cache/apt-install.log"; exit 1; }
fi

# Guest kernel (Debian cloud arm64, uncompressed Image) and busybox.
kdir="$cache/kernel"
if [ ! -f "$kdir/Image" ]; then
	pkg=$(apt-cache search --names-only '^linux-image-6\.12\..*-cloud-arm64-unsigned$' |
		awk '{print $1}' | sort -V | tail -1)
	[ -n "$pkg" ] || { log "no linux-image-6.12.*-cloud-arm64-unsigned in the archive"; exit 1; }
	log "downloading $pkg:arm64"
	(cd "$cache/debs" && apt-get download -q "$pkg:arm64" >/dev/null)
	rm -rf "$kdir.tmp" && mkdir -p "$kdir.tmp"
	dpkg-deb -x "$cache/debs/${pkg}"_*_arm64.deb "$kdir.tmp"
	cp "$kdir.tmp"/boot/vmlinuz-* "$kdir.tmp/Image"
	echo "$pkg" >"$kdir.tmp/PACKAGE"
	mkdir -p "$kdir" && mv "$kdir.tmp/Image" "$kdir.tmp/PACKAGE" "$kdir/" && rm -rf "$kdir.tmp"
fi
if [ ! -x "$cache/busybox/busybox" ]; then
	log "downloading busybox-static:arm64"
	(cd "$cache/debs" && apt-get download -q busybox-static:arm64 >/dev/null)
	rm -rf "$cache/busybox.tmp" && mkdir -p "$cache/busybox.tmp"
	dpkg-deb -x "$cache/debs"/busybox-static_*_arm64.deb "$cache/busybox.tmp"
	mkdir -p "$cache/busybox"
	cp "$cache/busybox.tmp/bin/busybox" "$cache/busybox/busybox"
	rm -rf "$cache/busybox.tmp"
fi
# arm64 libraries for the cross build: extracted into a sysroot rather than
# installed, because libfdt-dev and libevent-dev cannot be co-installed for two
# architectures. The vmm binary links them statically.
sysroot="$cache/sysroot-arm64"
arm_pkgs=(libfdt-dev libfdt1 libevent-dev libevent-2.1-7 libevent-core-2.1-7
	libevent-pthreads-2.1-7 libevent-extra-2.1-7 libevent-openssl-2.1-7
	libjson-c-dev libjson-c5 liburing-dev liburing2 libhttp-parser-dev libhttp-parser2.9)
arm_libs=(libfdt.a libevent_core.a libevent_pthreads.a libjson-c.a liburing.a libhttp_parser.a)
# A sysroot from before a library was added is rebuilt.
for a in "${arm_libs[@]}"; do
	[ -f "$sysroot/usr/lib/aarch64-linux-gnu/$a" ] || rm -f "$sysroot/.complete"
done
if [ ! -f "$sysroot/.complete" ]; then
	log "building the arm64 sysroot"
	rm -rf "$sysroot" && mkdir -p "$sysroot" "$cache/debs/arm64"
	(cd "$cache/debs/arm64" && apt-get download -q "${arm_pkgs[@]/%/:arm64}" >/dev/null 2>&1) || true
	for d in "$cache/debs/arm64"/*.deb; do dpkg-deb -x "$d" "$sysroot"; done
	for a in "${arm_libs[@]}"; do
		[ -f "$sysroot/usr/lib/aarch64-linux-gnu/$a" ] ||
			{ log "arm64 sysroot: $a missing (apt-get download failed?)"; exit 1; }
	done
	touch "$sysroot/.complete"
fi
# virtiofsd (arm64, from trixie, for the virtio-fs e2e cases): its own script.
bash "$top/scripts/fetch-virtiofsd.sh"
log "ready: kernel $(cat "$kdir/PACKAGE"), qemu $(qemu-system-aarch64 --version | head -1)"
