"""Hotplug core: the cost of possible-but-disabled vCPUs."""
from bed import Case
from bed.checks import vmm_exit

# Over IDLE_SECONDS, vmm with max=64 may use at most a few more CPU ticks
# (USER_HZ, 100/s) than with max=2, plus a quarter: the idle guest's own cost
# (its timer ticks, emulated) varies with the load on the emulating host, from
# 30 to 90 ticks between runs on a busy 2-core host. A thundering herd of 63
# parked threads costs over 1000 ticks and 35000 context switches in 5 s; an
# idle vmm switches a few hundred times, whatever max is.
IDLE_SECONDS = 5
IDLE_MARGIN_TICKS = 10
IDLE_MARGIN_CTXSW = 200


def _idle_ticks_close(res):
    """The idle cost of max=64 is that of max=2, within a few ticks."""
    if len(res.runs) < 2:
        return "both runs did not complete"
    got = [r.l("idle-ticks") for r in res.runs[:2]] + [r.l("idle-ctxsw") for r in res.runs[:2]]
    if not all(v and v.isdigit() for v in got):
        return f"idle cost not measured: {got!r}"
    max2, max64, cs2, cs64 = (int(v) for v in got)
    print(f"    idle vmm CPU over {IDLE_SECONDS} s: max=2 {max2} ticks, max=64 {max64} ticks; "
          f"context switches: max=2 {cs2}, max=64 {cs64}")
    if max64 > max2 + IDLE_MARGIN_TICKS + max2 // 4:
        return (f"idle max=64 used {max64} ticks in {IDLE_SECONDS} s, "
                f"max=2 {max2} (margin {IDLE_MARGIN_TICKS} + {max2 // 4})")
    if cs64 > cs2 + IDLE_MARGIN_CTXSW:
        return f"idle max=64 switched context {cs64} times in {IDLE_SECONDS} s, max=2 {cs2}"
    return None


def _all_threads_exist(res):
    """Run 1 really has a thread per possible vCPU (64 + the main thread)."""
    n = res.runs[1].l("threads") if len(res.runs) > 1 else None
    if not (n and n.isdigit() and int(n) >= 65):
        return f"max=64 run has {n!r} threads, expected at least 65"
    return None


# Run 0: boot=1,max=2; run 1: boot=1,max=64. For each, once the guest is idle,
# L1 reads vmm's utime+stime (and its threads' context switches) over a few
# seconds, then adds CPU 1 to tell the guest to power off (no onliner runs,
# so the guest stays on one CPU).
CASES = [
    Case("hotplug_idle_cost_max64_vs_max2",
         runs=["--cpus boot=1,max=2 --memory 256M --api-socket {socket}",
               "--cpus boot=1,max=64 --memory 256M --api-socket {socket}"],
         needs_vmmctl=True,
         guest_script='''
             echo "E2E ready"
             while read -r e </sys/devices/system/cpu/enabled && [ "$e" = 0 ]; do
                 sleep 1
             done
             echo "E2E signalled enabled=$e"
         ''',
         l1_script=f'''
             ticks() {{ awk '{{ print $14 + $15 }}' /proc/$1/stat; }}
             ctxsw() {{ cat /proc/$1/task/*/status | awk '/ctxt_switches/ {{ n += $2 }} END {{ print n }}'; }}
             old=
             for run in 0 1; do
                 while pid=$(pidof vmm); [ -z "$pid" ] || [ "$pid" = "$old" ]; do usleep 100000; done
                 e2e_wait_socket 30 && e2e_wait_guest "E2E ready" 200 || exit 1
                 sleep 3
                 t0=$(ticks $pid); c0=$(ctxsw $pid)
                 sleep {IDLE_SECONDS}
                 t1=$(ticks $pid); c1=$(ctxsw $pid)
                 echo "E2E-L1 idle-ticks=$((t1 - t0))"
                 echo "E2E-L1 idle-ctxsw=$((c1 - c0))"
                 echo "E2E-L1 threads=$(ls /proc/$pid/task | wc -l)"
                 e2e_ctl cpu add 1 || exit 1
                 old=$pid
             done
         ''',
         timeout=420, vmm_timeout=180,
         checks=[_all_threads_exist, _idle_ticks_close, vmm_exit(0)]),
]


# vmm logs its count of hotplug-block accesses (each one a guest exit) when
# it raises an event and when the guest reports back: an add ends at the
# insert's _OST, a remove once the guest has reported its eject ("removed").
_ACCESSES = r"hotplug: vcpu(\d+) (enabled, insert event raised|remove event raised|" \
            r"_OST event 0x[01] status 0x0|removed).*\(block accesses (\d+)\)"


def _block_exits(run):
    """(exits of the hot-add, exits of the hot-remove) of vCPU 3 in a run."""
    import re
    seen = {}
    for _, text in run.lines:
        m = re.search(_ACCESSES, text)
        if m and m.group(1) == "3":
            seen.setdefault(m.group(2).split()[0].rstrip(","), int(m.group(3)))
    try:
        return (seen["_OST"] - seen["enabled"], seen["removed"] - seen["remove"])
    except KeyError:
        return None


def _exits_independent_of_max(res):
    """A hot-add or hot-remove costs the same block exits at max=8 and max=64."""
    if len(res.runs) < 2:
        return "both runs did not complete"
    got = [_block_exits(r) for r in res.runs[:2]]
    if None in got:
        return f"block access counts missing from the log: {got!r}"
    (add8, rm8), (add64, rm64) = got
    print(f"    hotplug-block exits of one hot-add: max=8 {add8}, max=64 {add64}; "
          f"of one hot-remove: max=8 {rm8}, max=64 {rm64}")
    if add64 > add8 + 4 or rm64 > rm8 + 4:
        return f"exits grow with max: add {add8} -> {add64}, remove {rm8} -> {rm64}"
    return None


# One hot-add and one hot-remove of vCPU 3 at max=8, then at max=64.
CASES += [
    Case("hotplug_exits_max8_vs_max64",
         runs=["--cpus boot=1,max=8 --memory 256M --api-socket {socket}",
               "--cpus boot=1,max=64 --memory 256M --api-socket {socket}"],
         needs_vmmctl=True,
         dmesg=r"FW_BUG|WARNING:|Eject incomplete|Call trace",
         guest_script='''
             e2e_onliner & op=$!
             echo "E2E ready"
             e2e_wait_state 0,3/0,3 300 || exit 1
             e2e_wait_state 0/0 300 || exit 1
             kill $op
             e2e_report final
         ''',
         l1_script='''
             old=
             for run in 0 1; do
                 while pid=$(pidof vmm); [ -z "$pid" ] || [ "$pid" = "$old" ]; do usleep 100000; done
                 e2e_wait_socket 30 && e2e_wait_guest "E2E ready" 200 || exit 1
                 e2e_ctl cpu add 3 || exit 1
                 e2e_wait_guest "E2E state=0,3/0,3" 120 || exit 1
                 e2e_ctl cpu remove 3 || exit 1
                 old=$pid
             done
         ''',
         timeout=600, vmm_timeout=280,
         checks=[_exits_independent_of_max,
                 lambda res: next((f"run {r.index}: guest dmesg: {r.dmesg[0]}"
                                   for r in res.runs if r.dmesg), None),
                 vmm_exit(0)]),
]
