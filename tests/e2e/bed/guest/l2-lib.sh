# Helpers for the L2 /init and per-case guest scripts (sourced; busybox sh).
# Every line the host parses is "E2E <key>=<value>" or "E2E <marker>".

e2e_uptime() { cut -d' ' -f1 /proc/uptime; }

# cpu_file NAME: contents of /sys/devices/system/cpu/NAME, or "none".
e2e_cpu_file() {
	if [ -r "/sys/devices/system/cpu/$1" ]; then
		v=$(cat "/sys/devices/system/cpu/$1")
		echo "${v:-empty}"
	else
		echo none
	fi
}

# e2e_report [PREFIX]: print the CPU state. With PREFIX, keys become
# PREFIX.nproc etc. so a script can report again after a hotplug step.
e2e_report() {
	p=${1:+$1.}
	echo "E2E ${p}nproc=$(nproc)"
	echo "E2E ${p}online=$(e2e_cpu_file online)"
	echo "E2E ${p}possible=$(e2e_cpu_file possible)"
	echo "E2E ${p}present=$(e2e_cpu_file present)"
	echo "E2E ${p}enabled=$(e2e_cpu_file enabled)"
	echo "E2E ${p}offline=$(e2e_cpu_file offline)"
	echo "E2E ${p}cpus=$(cd /sys/devices/system/cpu && ls -d cpu[0-9]* 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
}

# e2e_kv KEY VALUE
e2e_kv() { echo "E2E $1=$2"; }

# e2e_dmesg [ERE]: print kernel log lines (all, or those matching ERE)
# as "E2E-DMESG <line>".
e2e_dmesg() {
	if [ -n "$1" ]; then
		dmesg | grep -E -- "$1" | sed 's/^/E2E-DMESG /'
	else
		dmesg | sed 's/^/E2E-DMESG /'
	fi
}

# e2e_online CPU [0|1]: write 1 (or 0) to the CPU's online file and report
# the write's status as "E2E online-cpuN=<rc>" (or "E2E offline-cpuN=<rc>").
e2e_online() {
	echo "${2:-1}" >"/sys/devices/system/cpu/cpu$1/online"
	rc=$?
	if [ "${2:-1}" = 0 ]; then echo "E2E offline-cpu$1=$rc"; else echo "E2E online-cpu$1=$rc"; fi
	return $rc
}

# e2e_wait_cpu CPU [SECONDS]: wait until /sys/devices/system/cpu/cpuN exists.
e2e_wait_cpu() {
	n=$((${2:-10} * 10))
	while [ "$n" -gt 0 ]; do
		[ -d "/sys/devices/system/cpu/cpu$1" ] && return 0
		usleep 100000
		n=$((n - 1))
	done
	return 1
}

# e2e_cpu_state: "<online>/<enabled>", read without forking.
e2e_cpu_state() {
	read -r e2e_o </sys/devices/system/cpu/online
	read -r e2e_e 2>/dev/null </sys/devices/system/cpu/enabled || e2e_e=none
	echo "$e2e_o/$e2e_e"
}

# e2e_onliner: like udev or the Kata agent, online every CPU that appears
# (unless /tmp/hold-cpuN exists) and print "E2E state=<online>/<enabled>"
# whenever that changes. Run it in the background.
e2e_onliner() {
	e2e_last=
	while :; do
		for c in /sys/devices/system/cpu/cpu[0-9]*; do
			[ -f "$c/online" ] || continue
			[ -e "/tmp/hold-${c##*/}" ] && continue
			read -r v 2>/dev/null <"$c/online" || continue
			[ "$v" = 0 ] && echo 1 >"$c/online" 2>/dev/null
		done
		s=$(e2e_cpu_state)
		if [ "$s" != "$e2e_last" ]; then
			echo "E2E state=$s"
			e2e_last=$s
		fi
		usleep 100000
	done
}

# e2e_wait_state STATE [SECONDS]: wait until e2e_cpu_state prints STATE.
e2e_wait_state() {
	n=$((${2:-60} * 10))
	while [ "$n" -gt 0 ]; do
		[ "$(e2e_cpu_state)" = "$1" ] && return 0
		usleep 100000
		n=$((n - 1))
	done
	echo "E2E error=state-timeout want=$1 got=$(e2e_cpu_state)"
	return 1
}

# e2e_busy_all SECONDS: one busy loop pinned to each online CPU; prints
# "E2E busy-cpus=N": how many CPUs accumulated user time meanwhile.
e2e_busy_all() {
	before=$(grep '^cpu[0-9]' /proc/stat)
	pids=
	for d in /sys/devices/system/cpu/cpu[0-9]*; do
		c=${d##*/cpu}
		[ -f "$d/online" ] && read -r v <"$d/online" && [ "$v" = 0 ] && continue
		taskset -c "$c" sh -c 'while :; do :; done' &
		pids="$pids $!"
	done
	sleep "${1:-2}"
	kill $pids 2>/dev/null
	wait $pids 2>/dev/null
	after=$(grep '^cpu[0-9]' /proc/stat)
	n=$(printf '%s\n%s\n' "$before" "$after" | awk '{ if ($1 in u) { if ($2 > u[$1]) n++ } else u[$1] = $2 } END { print n + 0 }')
	echo "E2E busy-cpus=$n"
}

# e2e_wait_online CPU [SECONDS]: wait until cpuN exists and is online.
e2e_wait_online() {
	n=$((${2:-60} * 10))
	while [ "$n" -gt 0 ]; do
		read -r v 2>/dev/null </sys/devices/system/cpu/cpu$1/online && [ "$v" = 1 ] && return 0
		usleep 100000
		n=$((n - 1))
	done
	echo "E2E error=online-timeout cpu=$1"
	return 1
}

# e2e_load_modules: insmod the modules the case packed (Case.guest_modules),
# in dependency order; prints "E2E modules=<names>" or "E2E insmod-failed=<file>".
e2e_load_modules() {
	[ -r /e2e/modules ] || { echo "E2E error=no-modules"; return 1; }
	loaded=
	while read -r m; do
		[ -n "$m" ] || continue
		insmod "/lib/modules/$m" || { echo "E2E insmod-failed=$m"; return 1; }
		loaded="$loaded${loaded:+,}${m%.ko}"
	done </e2e/modules
	echo "E2E modules=$loaded"
}

# e2e_wait_path PATH [SECONDS]: wait until PATH exists (a device node, a sysfs file).
e2e_wait_path() {
	n=$((${2:-10} * 10))
	while [ "$n" -gt 0 ]; do
		[ -e "$1" ] && return 0
		usleep 100000
		n=$((n - 1))
	done
	echo "E2E error=missing path=$1"
	return 1
}
