# Helpers for the L1 /init and per-case L1 scripts (sourced; busybox sh).
# Variables from /e2e/case.sh: E2E_RUNS, E2E_VMM_TIMEOUT, E2E_TAP,
# VMM_SOCKET, and E2E_ARGS_<i>: run i's vmm arguments, shell-quoted;
# optional: E2E_PROG_<i> (run i's program instead of /bin/vmm, shell-quoted
# argv prefix) and E2E_RSS_POLL_US.

e2e_up() { cut -d' ' -f1 /proc/uptime; }

# e2e_vmm_run I: run vmm (or run I's program, E2E_PROG_<I>) with run I's
# arguments under timeout and report "E2E-L1 vmm-exit=<rc>" and
# "E2E-L1 vmm-elapsed=<seconds>". With E2E_RSS_POLL_US (and no tap), the
# program's VmHWM is polled meanwhile and reported as "E2E-L1 vmm-hwm-kb=".
e2e_vmm_run() {
	e2e_i=$1
	eval "e2e_a=\$E2E_ARGS_$e2e_i"
	eval "e2e_p=\${E2E_PROG_$e2e_i:-/bin/vmm}"
	eval "set -- $e2e_p $e2e_a"
	rm -f "$VMM_SOCKET" /run/vmm.rc
	: >/run/vmm.log
	e2e_hwm=
	t0=$(e2e_up)
	echo "E2E-L1 vmm-start run=$e2e_i"
	if [ "$E2E_TAP" = 1 ]; then
		# Copy the output to /run/vmm.log too, so an L1 script can wait
		# for guest lines (e2e_wait_guest). vmm's stdout is then a pipe.
		{ timeout "$E2E_VMM_TIMEOUT" "$@" 2>&1; echo $? >/run/vmm.rc; } | tee -a /run/vmm.log
		rc=$(cat /run/vmm.rc 2>/dev/null || echo 255)
	elif [ -n "$E2E_RSS_POLL_US" ]; then
		e2e_run_polled "$@"
		rc=$?
	else
		timeout "$E2E_VMM_TIMEOUT" "$@"
		rc=$?
	fi
	t1=$(e2e_up)
	echo
	echo "E2E-L1 vmm-exit=$rc"
	[ -n "$e2e_hwm" ] && echo "E2E-L1 vmm-hwm-kb=$e2e_hwm"
	echo "E2E-L1 vmm-elapsed=$(awk "BEGIN{printf \"%.2f\", $t1 - $t0}")"
}

# e2e_run_polled PROG ARGS...: like `timeout $E2E_VMM_TIMEOUT PROG ARGS`, in
# the background (busybox timeout execs PROG in the process it started as,
# so $! is PROG's pid) while the shell reads /proc/PID/status every
# E2E_RSS_POLL_US microseconds with builtins only; sets e2e_hwm to the last
# VmHWM (KiB) seen before the process exited. Keeps the caller's stdin.
e2e_run_polled() {
	exec 3<&0
	timeout "$E2E_VMM_TIMEOUT" "$@" 0<&3 3<&- &
	e2e_pid=$!
	exec 3<&-
	e2e_hwm=
	while :; do
		e2e_h=
		while read -r e2e_k e2e_v e2e_u; do
			[ "$e2e_k" = VmHWM: ] && { e2e_h=$e2e_v; break; }
		done 2>/dev/null </proc/$e2e_pid/status
		[ -n "$e2e_h" ] || break     # gone, or a zombie (no mm any more)
		e2e_hwm=$e2e_h
		usleep "$E2E_RSS_POLL_US"
	done
	wait "$e2e_pid"
}

# e2e_wait_socket [SECONDS]: wait for vmm's API socket to appear.
e2e_wait_socket() {
	n=$((${1:-30} * 10))
	while [ "$n" -gt 0 ]; do
		[ -S "$VMM_SOCKET" ] && return 0
		usleep 100000
		n=$((n - 1))
	done
	echo "E2E-L1 error=socket-timeout"
	return 1
}

# e2e_wait_guest ERE [SECONDS]: wait until the guest printed a line matching
# ERE (needs tap=True in the case, which is the default with an L1 script).
e2e_wait_guest() {
	n=$((${2:-60} * 10))
	while [ "$n" -gt 0 ]; do
		grep -qE -- "$1" /run/vmm.log 2>/dev/null && return 0
		usleep 100000
		n=$((n - 1))
	done
	echo "E2E-L1 error=wait-guest-timeout pattern=$1"
	return 1
}

# e2e_ctl ARGS...: run vmmctl against the socket and report its status as
# "E2E-L1 ctl-rc=<rc>" (output is shown as-is).
e2e_ctl() {
	echo "E2E-L1 ctl: $*"
	# Generous: under nested emulation a guest's CPU offline (stop_machine
	# across all vCPUs) has been seen to take 35 s.
	vmmctl --socket "$VMM_SOCKET" --timeout 90000 "$@"
	rc=$?
	echo "E2E-L1 ctl-rc=$rc"
	return $rc
}
