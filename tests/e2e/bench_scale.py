#!/usr/bin/env python3
"""Benchmark (not a test): what the number of possible vCPUs costs, side by
side, in one nested boot.

  python3 tests/e2e/bench_scale.py [--vmm PATH] [--vmmctl PATH] [--idle 10] [--cycles 3]

L1 runs vmm five times, one after the other (ACPI boot, boot=1):
  max=2, max=64, max=256  idle (512M): once the guest is up, L1 reads vmm's
                          utime+stime (clock ticks, all threads) from
                          /proc/PID/stat and its threads' CPU time from
                          /proc/PID/task/*/schedstat over --idle seconds;
  max=8, max=512          hot-add (1G): CYCLES times, vmmctl adds vCPU 1, the
                          guest onlines it (as udev would), vmmctl removes it.
                          Latency from vmm's own log stamps: "vcpu1 enabled"
                          -> PSCI CPU_ON(vCPU 1) -> 0.
Boot time is vmm start -> the guest's first userspace line (host stamps of
the serial lines, +-0.5 s of emulation noise), from the max=2 and max=256
runs. Prints each figure and the ratios against the smallest max.
"""
import argparse
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bed import Bed, BedConfig, Case  # noqa: E402
from bed.case import Run  # noqa: E402
from bed.runner import TOP  # noqa: E402

IDLE_MAX = (2, 64, 256)
HOTPLUG_MAX = (8, 512)
STAMP = re.compile(r"vmm: \[\s*(\d+\.\d+)\] (.*)$")
ADD_START = re.compile(r"hotplug: vcpu1 enabled")
ADD_DONE = re.compile(r"PSCI CPU_ON\(mpidr 0x1\) -> 0$")

# The guest onlines hot-added CPUs only in the hotplug runs: its poll loop
# would otherwise count as idle cost.
GUEST = '''
    grep -q e2e.onliner /proc/cmdline && { e2e_onliner & }
    echo "E2E ready"
    sleep 100000
'''


def l1_script(idle, cycles):
    return f'''
        prev=
        # Wait for the next vmm process, its API socket and its guest.
        next_vmm() {{
            n=0
            while :; do
                pid=$(pidof vmm | cut -d' ' -f1)
                [ -n "$pid" ] && [ "$pid" != "$prev" ] && break
                usleep 100000; n=$((n + 1)); [ $n -gt 3000 ] && return 1
            done
            prev=$pid
            e2e_wait_socket 300 && e2e_wait_guest "E2E ready" 600
        }}
        ticks() {{ read -r s </proc/$1/stat; set -- ${{s##*) }}; echo $((${{12}} + ${{13}})); }}
        # CPU time of every thread in ns (schedstat: finer than ticks).
        cpu_ns() {{ t=0; for f in /proc/$1/task/*/schedstat; do
            read -r ns rest <"$f" && t=$((t + ns)); done; echo $t; }}
        online() {{ vmmctl --socket "$VMM_SOCKET" --json cpu list | tr -d ' \\n' |
            grep -q '"id":1,[^}}]*"online":true'; }}
        for m in {" ".join(map(str, IDLE_MAX))}; do
            next_vmm || exit 1
            sleep 3
            a=$(ticks $pid); na=$(cpu_ns $pid); sleep {idle}; b=$(ticks $pid); nb=$(cpu_ns $pid)
            echo "E2E-L1 idle-ticks=$((b - a))"
            echo "E2E-L1 idle-cpu-us=$(((nb - na) / 1000))"
            vmmctl --socket "$VMM_SOCKET" shutdown
        done
        for m in {" ".join(map(str, HOTPLUG_MAX))}; do
            next_vmm || exit 1
            for i in $(seq {cycles}); do
                vmmctl --socket "$VMM_SOCKET" --timeout 300000 cpu add 1 >/dev/null || exit 1
                n=0; until online; do usleep 50000; n=$((n + 1)); [ $n -gt 6000 ] && exit 1; done
                vmmctl --socket "$VMM_SOCKET" --timeout 300000 cpu remove 1 >/dev/null || exit 1
            done
            vmmctl --socket "$VMM_SOCKET" shutdown
        done
    '''


def run_args(max_cpus, onliner, memory):
    cmdline = "quiet panic=-1" + (" e2e.onliner" if onliner else "")
    return Run(["--kernel", "{kernel}", "--initrd", "{initrd}", "--console", "stdio",
                "--cmdline", cmdline, "--cpus", f"boot=1,max={max_cpus}", "--memory", memory,
                "--api-socket", "{socket}"], base_args=False)


def case(idle, cycles):
    # Linux starts kernel threads for every possible CPU it probes at boot:
    # at 512 of them, 512M of RAM is not enough threads (its boot hangs).
    runs = ([run_args(m, False, "512M") for m in IDLE_MAX] +
            [run_args(m, True, "1G") for m in HOTPLUG_MAX])
    return Case("bench_scale", runs=runs, needs_vmmctl=True, guest_script=GUEST,
                l1_script=l1_script(idle, cycles), boots=False,
                timeout=1800, vmm_timeout=900)


def add_latencies(lines):
    out, start = [], None
    for _, text in lines:
        m = STAMP.search(text)
        if not m:
            continue
        t, msg = float(m.group(1)), m.group(2)
        if ADD_START.search(msg):
            start = t
        elif start is not None and ADD_DONE.search(msg):
            out.append((t - start) * 1000)
            start = None
    return out


def ratio(a, b):
    return f"{b / a:.2f}x" if a else "n/a"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", default=str(TOP / "build-arm64/cli/vmm"))
    ap.add_argument("--vmmctl", default=None)
    ap.add_argument("--idle", type=int, default=10, help="seconds of idle CPU sampling")
    ap.add_argument("--cycles", type=int, default=3, help="hot-add/remove cycles per max")
    ap.add_argument("-v", "--verbose", action="store_true", help="stream the serial log")
    a = ap.parse_args(argv)
    vmm = Path(a.vmm)
    vmmctl = Path(a.vmmctl) if a.vmmctl else vmm.parent / "vmmctl"
    bed = Bed(BedConfig(vmm=vmm, vmmctl=vmmctl, echo=a.verbose),
              note=lambda m: print(m, file=sys.stderr, flush=True))
    res = bed.run(case(a.idle, a.cycles))
    runs = list(res.runs)
    idle, idle_us, boot, add = {}, {}, {}, {}
    num = lambda v: int(v) if v is not None and v.lstrip("-").isdigit() else None  # noqa: E731
    for m, r in zip(IDLE_MAX, runs):
        idle[m], idle_us[m] = num(r.l("idle-ticks")), num(r.l("idle-cpu-us"))
        boot[m] = r.t_userspace
    for m, r in zip(HOTPLUG_MAX, runs[len(IDLE_MAX):]):
        add[m] = add_latencies(r.lines)

    base = IDLE_MAX[0]
    print(f"idle vmm CPU over {a.idle} s, all threads (utime+stime ticks; CPU time from schedstat):")
    for m in IDLE_MAX:
        v, us = idle.get(m), idle_us.get(m)
        print(f"  max={m:<4d} {v if v is not None else '?':>5} ticks  "
              f"{us / 1000 if us is not None else float('nan'):9.1f} ms" +
              (f"  ({ratio(idle_us[base], us)} of max={base})" if m != base and us is not None
               and idle_us[base] is not None else ""))
    print("boot time, vmm start -> guest userspace:")
    for m in (IDLE_MAX[0], IDLE_MAX[-1]):
        t = boot.get(m)
        print(f"  max={m:<4d} " + (f"{t:6.2f} s" if t is not None else "     ?"))
    if boot.get(IDLE_MAX[0]) and boot.get(IDLE_MAX[-1]):
        print(f"  ratio max={IDLE_MAX[-1]}/max={IDLE_MAX[0]}: {ratio(boot[IDLE_MAX[0]], boot[IDLE_MAX[-1]])}")
    print(f"hot-add latency (vcpu1 enabled -> CPU_ON), {a.cycles} cycles:")
    med = {}
    for m in HOTPLUG_MAX:
        v = add.get(m) or []
        if v:
            med[m] = statistics.median(v)
            print(f"  max={m:<4d} n={len(v)}  min {min(v):8.1f} ms  median {med[m]:8.1f} ms  max {max(v):8.1f} ms")
        else:
            print(f"  max={m:<4d} no complete cycle")
    if len(med) == 2:
        lo, hi = HOTPLUG_MAX
        print(f"  ratio max={hi}/max={lo} (medians): {ratio(med[lo], med[hi])}")
    if not res.ok:
        print("problems: " + "; ".join(res.failures))
        if res.log_path:
            print(f"  log: {res.log_path}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
