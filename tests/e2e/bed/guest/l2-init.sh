#!/bin/busybox sh
# L2 (nested guest) /init. Packed by tests/e2e/bed/images.py together with
# /e2e/lib.sh, /e2e/config and the optional per-case /e2e/guest.sh.
# Output lines starting with "E2E " are parsed by the host (bed/serial.py).
echo "E2E userspace"
B=/bin/busybox
$B mkdir -p /proc /sys /dev /tmp /run
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev 2>/dev/null
$B --install -s /bin
export PATH=/bin:/sbin
. /e2e/config
. /e2e/lib.sh
echo "E2E uptime=$(e2e_uptime)"
e2e_report
if [ -f /e2e/guest.sh ]; then
	echo "E2E guest-script-start"
	( . /e2e/guest.sh )
	echo "E2E guest-script-rc=$?"
fi
case "$E2E_DMESG" in
"") ;;
all) e2e_dmesg ;;
*) e2e_dmesg "$E2E_DMESG" ;;
esac
echo "E2E done uptime=$(e2e_uptime)"
poweroff -f
# not reached unless poweroff failed
echo "E2E poweroff-failed"
sleep 1000000
