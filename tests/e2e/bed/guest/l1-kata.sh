#!/bin/busybox sh
# l1-kata.sh WORKDIR PROG ARGS...: in L1, prepare the Kata compat harness's
# work directory (a tmpfs) and its shared directory with a file for the
# guest, start syslogd (Kata runs virtiofsd with --syslog, which logs to
# /dev/log), run PROG ARGS (the harness), then report what the guest left in
# the shared directory. "E2E-L1 " lines go to the host.
W=$1
shift
S=$W/shared/kata-compat/shared
mkdir -p "$W"
mount -t tmpfs kata "$W"
mkdir -p "$S"
syslogd -O /run/syslog.log
t=$(cat /proc/sys/kernel/random/uuid)
echo "$t" >"$S/from-l1.txt"
echo "E2E-L1 fs-l1-token=$t"
"$@"
rc=$?
if [ -f "$S/from-l2.txt" ]; then
	echo "E2E-L1 fs-l2-file=$(cat "$S/from-l2.txt")"
else
	echo "E2E-L1 fs-l2-file=missing"
fi
sed 's/^/E2E-L1 syslog: /' /run/syslog.log 2>/dev/null | tail -10
exit $rc
