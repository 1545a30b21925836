#!/bin/busybox sh
# L1 (outer, emulated) /init. Runs the vmm invocations described by
# /e2e/case.sh (one per run), optionally alongside /e2e/l1.sh, then powers
# off. Lines starting with "E2E-L1 " are parsed by the host (bed/serial.py).
B=/bin/busybox
$B mkdir -p /proc /sys /dev /tmp /run
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev 2>/dev/null
$B --install -s /bin
export PATH=/bin:/sbin
echo "E2E-L1 init uptime=$(cut -d' ' -f1 /proc/uptime)"
. /e2e/l1-lib.sh
. /e2e/case.sh
if [ -c /dev/kvm ]; then echo "E2E-L1 kvm=yes"; else echo "E2E-L1 kvm=no"; fi
# Kernel modules the case packed (Case.l1_modules), in dependency order.
if [ -f /e2e/l1-modules ]; then
	while read -r m; do
		insmod "/lib/modules/$m" || echo "E2E-L1 insmod-failed=$m"
	done </e2e/l1-modules
	echo "E2E-L1 modules=$(tr '\n' ' ' </e2e/l1-modules)"
fi

# Run the vmm invocations in sequence, in the background, so that an L1
# script can drive the running vmm. vmm keeps the console as stdin/stdout.
(
	i=0
	while [ "$i" -lt "$E2E_RUNS" ]; do
		e2e_vmm_run "$i"
		i=$((i + 1))
	done
) </dev/console &
RUNS_PID=$!

if [ -f /e2e/l1.sh ]; then
	echo "E2E-L1 script-start"
	timeout "$E2E_L1_SCRIPT_TIMEOUT" sh -c '. /e2e/l1-lib.sh; . /e2e/case.sh; . /e2e/l1.sh'
	echo "E2E-L1 script-rc=$?"
fi
wait "$RUNS_PID"
echo "E2E-L1 done uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
