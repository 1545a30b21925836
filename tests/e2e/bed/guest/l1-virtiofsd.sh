#!/bin/busybox sh
# l1-virtiofsd.sh PROG ARGS...: in L1, serve /srv/share with virtiofsd on
# /run/virtiofsd.sock, put a 1 MiB file there for the guest, run PROG ARGS
# (vmm), then report what the guest left in the directory. virtiofsd and
# its libraries are in /opt/virtiofsd (scripts/fetch-virtiofsd.sh), run
# through their own dynamic loader. "E2E-L1 " lines go to the host.
D=/opt/virtiofsd
S=/run/virtiofsd.sock
mkdir -p /srv/share
mount -t tmpfs share /srv/share
dd if=/dev/urandom of=/srv/share/from-l1.bin bs=64k count=16 2>/dev/null
echo "E2E-L1 l1-sum=$(md5sum </srv/share/from-l1.bin | cut -d' ' -f1)"
rm -f "$S"
"$D/lib/ld-linux-aarch64.so.1" --library-path "$D/usr/lib/aarch64-linux-gnu" \
	"$D/usr/libexec/virtiofsd" --socket-path="$S" --shared-dir=/srv/share \
	--sandbox=none --cache=auto >/run/virtiofsd.log 2>&1 &
echo $! >/run/virtiofsd.pid
n=100
while [ "$n" -gt 0 ] && [ ! -S "$S" ]; do usleep 100000; n=$((n - 1)); done
[ -S "$S" ] && echo "E2E-L1 virtiofsd=up" || { echo "E2E-L1 virtiofsd=down"; cat /run/virtiofsd.log; }
"$@"
rc=$?
if [ -f /srv/share/from-l2.bin ]; then
	echo "E2E-L1 l2-file-sum=$(md5sum </srv/share/from-l2.bin | cut -d' ' -f1)"
fi
kill "$(cat /run/virtiofsd.pid)" 2>/dev/null
sed 's/^/virtiofsd: /' /run/virtiofsd.log | tail -20
exit $rc
