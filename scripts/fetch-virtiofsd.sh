#!/bin/bash
# virtiofsd for the e2e bed's L1 (arm64). Bookworm has no virtiofsd package,
# so it and the shared libraries it links come from Debian trixie through a
# private apt configuration in .cache/trixie: the host's own sources, lists
# and packages stay untouched (nothing is installed, only downloaded and
# extracted into .cache/virtiofsd). Idempotent.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache="$top/.cache"
out="$cache/virtiofsd"
[ -x "$out/usr/libexec/virtiofsd" ] && [ -e "$out/lib/ld-linux-aarch64.so.1" ] && exit 0

apt_dir="$cache/trixie"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/debs"
cat >"$apt_dir/sources.list" <<EOS
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
EOS
opts=(-o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache::Archives="$apt_dir/archives"
      -o Dir::Cache::pkgcache="" -o Dir::Cache::srcpkgcache=""
      -o APT::Architectures::=arm64 -o Debug::NoLocking=1)
echo "fetch-virtiofsd: updating the private trixie package lists"
apt-get "${opts[@]}" update -q >"$apt_dir/update.log" 2>&1 || { tail -20 "$apt_dir/update.log"; exit 1; }
# virtiofsd and what its binary links (libc6, libseccomp2, libcap-ng0, libgcc-s1).
pkgs=(virtiofsd libc6 libseccomp2 libcap-ng0 libgcc-s1)
(cd "$apt_dir/debs" && apt-get "${opts[@]}" download -q "${pkgs[@]/%/:arm64}" >/dev/null)
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
for p in "${pkgs[@]}"; do dpkg-deb -x "$apt_dir/debs/${p}"_*_arm64.deb "$out.tmp"; done
# The dynamic loader where an initramfs root can find it.
mkdir -p "$out.tmp/lib"
ld=$(cd "$out.tmp" && find . -name 'ld-linux-aarch64.so.1' | head -1)
[ -n "$ld" ] || { echo "fetch-virtiofsd: no ld-linux-aarch64.so.1 in libc6"; exit 1; }
[ -e "$out.tmp/lib/ld-linux-aarch64.so.1" ] || cp -L "$out.tmp/$ld" "$out.tmp/lib/ld-linux-aarch64.so.1"
# Keep only what runs: the binary and the libraries.
rm -rf "$out.tmp/usr/share"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "fetch-virtiofsd: $(ls "$out/usr/libexec/virtiofsd")"
