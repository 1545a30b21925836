#!/usr/bin/env python3
"""Benchmark (not a test): vCPU hot-add and hot-remove latency, N cycles.

  python3 tests/e2e/bench_hotplug.py [--vmm PATH] [--vmmctl PATH] [--cycles 20]

Inside one nested boot (--cpus boot=1,max=2), L1 adds vCPU 1 with vmmctl,
waits until the guest (which onlines every CPU that appears, like udev) has it
online, then removes it, CYCLES times. The latencies come from vmm's own log
stamps, so emulator timing noise between L1 and the host does not enter:
  add:    "vcpu1 enabled" (the API call took effect) -> PSCI CPU_ON(1) -> 0
          (the guest onlined it)
  remove: "vcpu1 remove event raised" -> "vcpu1 ejected" (the guest offlined
          and ejected it)
Prints min/median/max of each and the ratio of the medians (remove/add).
"""
import argparse
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bed import Bed, BedConfig, Case  # noqa: E402
from bed.runner import TOP  # noqa: E402

STAMP = re.compile(r"vmm: \[\s*(\d+\.\d+)\] (.*)$")
EVENTS = {
    "add_start": re.compile(r"hotplug: vcpu1 enabled"),
    "add_done": re.compile(r"PSCI CPU_ON\(mpidr 0x1\) -> 0$"),
    "remove_start": re.compile(r"hotplug: vcpu1 remove event raised"),
    "remove_done": re.compile(r"hotplug: vcpu1 ejected"),
}


def case(cycles):
    return Case(
        "bench_hotplug",
        "--cpus boot=1,max=2 --memory 512M --api-socket {socket}",
        needs_vmmctl=True,
        guest_script='''
            e2e_onliner & op=$!
            echo "E2E ready"
            e2e_wait_online 9 100000
        ''',
        l1_script=f'''
            e2e_wait_socket 30 && e2e_wait_guest "E2E ready" 200 || exit 1
            online() {{ vmmctl --socket "$VMM_SOCKET" --json cpu list | tr -d ' \\n' |
                grep -q '"id":1,[^}}]*"online":true'; }}
            for i in $(seq {cycles}); do
                vmmctl --socket "$VMM_SOCKET" cpu add 1 >/dev/null || exit 1
                n=0; until online; do usleep 20000; n=$((n + 1)); [ $n -gt 1000 ] && exit 1; done
                vmmctl --socket "$VMM_SOCKET" cpu remove 1 >/dev/null || exit 1
            done
            vmmctl --socket "$VMM_SOCKET" shutdown
        ''',
        boots=False, timeout=300 + 20 * cycles, vmm_timeout=240 + 20 * cycles)


def latencies(lines):
    seen, out = {}, {"add": [], "remove": []}
    for _, text in lines:
        m = STAMP.search(text)
        if not m:
            continue
        t, msg = float(m.group(1)), m.group(2)
        for name, rx in EVENTS.items():
            if rx.search(msg):
                kind, what = name.split("_")
                if what == "start":
                    seen[kind] = t
                elif kind in seen:
                    out[kind].append((t - seen.pop(kind)) * 1000)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", default=str(TOP / "build-arm64/cli/vmm"))
    ap.add_argument("--vmmctl", default=None)
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("-v", "--verbose", action="store_true", help="stream the serial log")
    a = ap.parse_args(argv)
    vmm = Path(a.vmm)
    vmmctl = Path(a.vmmctl) if a.vmmctl else vmm.parent / "vmmctl"
    bed = Bed(BedConfig(vmm=vmm, vmmctl=vmmctl, echo=a.verbose),
              note=lambda m: print(m, file=sys.stderr, flush=True))
    res = bed.run(case(a.cycles))
    lat = latencies(res.lines)
    med = {}
    for kind in ("add", "remove"):
        v = lat[kind]
        if not v:
            print(f"{kind}: no complete cycle")
            continue
        med[kind] = statistics.median(v)
        print(f"hot-{kind:6s} n={len(v):2d}  min {min(v):7.1f} ms  median {med[kind]:7.1f} ms  "
              f"max {max(v):7.1f} ms")
    if len(med) == 2 and med["add"] > 0:
        print(f"ratio remove/add (medians) {med['remove'] / med['add']:.2f}")
    if not res.ok or len(lat["add"]) < a.cycles:
        print("problems: " + "; ".join(res.failures or ["fewer cycles than asked"]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
