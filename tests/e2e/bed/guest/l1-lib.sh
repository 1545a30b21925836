# Helpers for the L1 /init and per-case L1 scripts (sourced; busybox sh).
# Variables from /e2e/case.sh: E2E_RUNS, E2E_VMM_TIMEOUT, E2E_TAP,
# VMM_SOCKET, and E2E_ARGS_<i>: run i's vmm arguments, shell-quoted.

e2e_up() { cut -d' ' -f1 /proc/uptime; }

# e2e_vmm_run I: run vmm with run I's arguments under timeout and report
# "E2E-L1 vmm-exit=<rc>" and "E2E-L1 vmm-elapsed=<seconds>".
e2e_vmm_run() {
	e2e_i=$1
	eval "e2e_a=\$E2E_ARGS_$e2e_i"
	eval "set -- $e2e_a"
	rm -f "$VMM_SOCKET" /run/vmm.rc
	: >/run/vmm.log
	t0=$(e2e_up)
	echo "E2E-L1 vmm-start run=$e2e_i"
	if [ "$E2E_TAP" = 1 ]; then
		# Copy the output to /run/vmm.log too, so an L1 script can wait
		# for guest lines (e2e_wait_guest). vmm's stdout is then a pipe.
		{ timeout "$E2E_VMM_TIMEOUT" /bin/vmm "$@" 2>&1; echo $? >/run/vmm.rc; } | tee -a /run/vmm.log
		rc=$(cat /run/vmm.rc 2>/dev/null || echo 255)
	else
		timeout "$E2E_VMM_TIMEOUT" /bin/vmm "$@"
		rc=$?
	fi
	t1=$(e2e_up)
	echo
	echo "E2E-L1 vmm-exit=$rc"
	echo "E2E-L1 vmm-elapsed=$(awk "BEGIN{printf \"%.2f\", $t1 - $t0}")"
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
	vmmctl --socket "$VMM_SOCKET" "$@"
	rc=$?
	echo "E2E-L1 ctl-rc=$rc"
	return $rc
}
