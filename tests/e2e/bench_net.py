#!/usr/bin/env python3
"""Benchmark (not a test): virtio-net TCP stream throughput, vmm vs QEMU+KVM,
side by side in one emulated machine.

  scripts/fetch-qemu-arm64.sh          # once, by hand: arm64 QEMU 10 + libs
  python3 tests/e2e/bench_net.py [--vmm PATH] [--rounds 2] [--mib 16]

Both programs get the same L2 kernel and initramfs, 2 vCPUs, 512 MiB, a
device tree, and a virtio-net device (virtio-mmio) on tap vmmtap0 in L1,
one queue pair, served in userspace:
  vmm    vmm --boot fdt --rng off --net tap=vmmtap0
  qemu   qemu-system-aarch64 -M virt,gic-version=3 -accel kvm -cpu host ...
         -device virtio-net-device,netdev=n0
         -netdev tap,id=n0,ifname=vmmtap0,script=no,downscript=no,vhost=off
(vhost=off: QEMU's own userspace virtio-net, the fair comparison; vhost-net
would move the data path into the L1 kernel.)

L1 gives the tap 10.0.0.1/24, the nested guest takes 10.0.0.2/24. Per run,
busybox nc streams MIB MiB of zeros each way, timed in L1 from /proc/uptime:
  guest -> L1  from connecting until the guest's nc closed the stream;
  L1 -> guest  from connecting until the guest, having read everything,
               connects back to say so.
Rounds alternate the programs. Prints each run, the median per program and
direction, and the ratios vmm/qemu (above 1: vmm is faster). It never fails
on the figures; the exit status is 1 only if a program produced none.

Caveats: everything runs nested under TCG (host -> emulated L1 -> KVM ->
L2), so absolute figures are far below real hardware and noisy; what counts
is the comparison on the same machine, in the same L1 boot, alternating.
"""
import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bed import Case  # noqa: E402
from bed.case import Run  # noqa: E402
from bed.runner import TOP  # noqa: E402
from bench_vs_qemu import qemu_bench_bed, Q, QEMU_ARGS, QEMU_PROG, QEMU_TREE  # noqa: E402
from cases_net import L1_IP, L2_IP, NET_MODULES, TAP  # noqa: E402

GUEST = f'''
    e2e_load_modules || exit 1
    e2e_wait_path /sys/class/net/eth0 20 || exit 1
    ip link set eth0 up && ip addr add {L2_IP}/24 dev eth0 || exit 1
    mkfifo /tmp/hold && exec 3<>/tmp/hold
    dd if=/dev/zero bs=64k count=$((MIB * 16)) 2>/dev/null | nc -l -p 5000 &
    ( nc -l -p 5001 <&3 | wc -c >/tmp/got
      n=50; until nc {L1_IP} 5003 </dev/null; do n=$((n - 1)); [ "$n" -gt 0 ] || break; usleep 100000; done ) &
    nc -l -p 5002 <&3 >/dev/null & fin=$!
    echo "E2E net-ready"
    wait $fin
    e2e_kv rx-bytes "$(cat /tmp/got)"
'''

L1 = f'''
    e2e_link() {{ [ -e /sys/class/net/{TAP} ]; }}
    mkfifo /tmp/hold && exec 3<>/tmp/hold
    i=0
    while [ "$i" -lt "$E2E_RUNS" ]; do
        n=600; until e2e_link; do n=$((n - 1)); [ "$n" -gt 0 ] || exit 1; usleep 100000; done
        ip addr add {L1_IP}/24 dev {TAP} && ip link set {TAP} up || exit 1
        e2e_wait_guest "E2E net-ready" 240 || exit 1
        ping -c 2 -W 5 {L2_IP} >/dev/null
        t0=$(e2e_up)
        b=$(nc {L2_IP} 5000 <&3 | wc -c)
        t1=$(e2e_up)
        # (a leading newline: the guest's output shares the console and may be mid-line)
        printf '\\nE2E-L1 down bytes=%s secs=%s\\n' "$b" "$(awk "BEGIN{{print $t1 - $t0}}")"
        nc -l -p 5003 <&3 >/dev/null & done_pid=$!
        t0=$(e2e_up)
        dd if=/dev/zero bs=64k count=$((MIB * 16)) 2>/dev/null | nc {L2_IP} 5001
        wait $done_pid
        t1=$(e2e_up)
        printf '\\nE2E-L1 up bytes=%s secs=%s\\n' "$((MIB * 1048576))" "$(awk "BEGIN{{print $t1 - $t0}}")"
        nc {L2_IP} 5002 </dev/null
        n=1200; while e2e_link; do n=$((n - 1)); [ "$n" -gt 0 ] || exit 1; usleep 100000; done
        i=$((i + 1))
    done
'''

COMMON = "--cpus boot=2 --memory 512M"


def programs():
    return {
        "vmm": Run(f"--boot fdt {COMMON} --rng off --net tap={TAP}"),
        "qemu": Run(QEMU_ARGS + ["-device", "virtio-net-device,netdev=n0",
                                 "-netdev", f"tap,id=n0,ifname={TAP},script=no,downscript=no,vhost=off"],
                    program=QEMU_PROG, base_args=False),
    }


def rate(run, key):
    """MiB/s of the L1 event `key` ("bytes=B secs=S"), or None."""
    v = run.l(key)
    if not v:
        return None
    kv = dict(p.split("=", 1) for p in v.split() if "=" in p)
    try:
        b, s = int(kv["bytes"]), float(kv["secs"])
    except (KeyError, ValueError):
        return None
    return b / 1048576 / s if b > 0 and s > 0 else None


def bench(bed, rounds, mib, vmm_timeout):
    progs = programs()
    names = list(progs)
    order = []
    for r in range(rounds):
        k = r % len(names)
        order += [(r + 1, n) for n in names[k:] + names[:k]]
    case = Case("bench_net", runs=[progs[n] for _, n in order],
                guest_modules=NET_MODULES, l1_modules=("tun",),
                guest_script=f"MIB={mib}\n" + GUEST, l1_script=f"MIB={mib}\n" + L1,
                l1_files={Q: str(QEMU_TREE)},
                timeout=180 + (vmm_timeout + 10) * len(order), vmm_timeout=vmm_timeout)
    res = bed.run(case)
    got = {n: {"down": [], "up": []} for n in names}
    for run, (rnd, n) in zip(res.runs, order):
        line = f"round {rnd} {n:5s}"
        for d, label in (("down", "guest->L1"), ("up", "L1->guest")):
            x = rate(run, d)
            if x is not None:
                got[n][d].append(x)
            line += f"  {label} " + (f"{x:7.2f} MiB/s" if x is not None else "    n/a")
        print(line + f"  exit {run.vmm_exit}", flush=True)
    if not res.ok:
        print(f"problems: {'; '.join(res.failures)}", flush=True)
        if res.log_path:
            print(f"  log: {res.log_path}", flush=True)
    print()
    print(f"{'program':8s} {'guest->L1 (median)':>20s} {'L1->guest (median)':>20s}")
    for n in names:
        cells = [f"{statistics.median(got[n][d]):13.2f} MiB/s" if got[n][d] else f"{'n/a':>19s}"
                 for d in ("down", "up")]
        print(f"{n:8s} {cells[0]:>20s} {cells[1]:>20s}")
    parts = []
    for d, label in (("down", "guest->L1"), ("up", "L1->guest")):
        a, b = got["vmm"][d], got["qemu"][d]
        parts.append(f"{label} {statistics.median(a) / statistics.median(b):.3f}" if a and b
                     else f"{label} n/a")
    print("ratio vmm/qemu (throughput): " + ", ".join(parts))
    return 0 if all(got[n]["down"] or got[n]["up"] for n in names) else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", default=str(TOP / "build-arm64/cli/vmm"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--mib", type=int, default=16, help="MiB per direction per run (default 16)")
    ap.add_argument("--vmm-timeout", type=int, default=300, help="seconds per run (default 300)")
    ap.add_argument("--keep-logs", metavar="DIR", help="save the stamped serial log")
    ap.add_argument("-v", "--verbose", action="store_true", help="stream the serial log")
    a = ap.parse_args(argv)
    bed = qemu_bench_bed(a)
    if bed is None:
        return 2
    try:
        return bench(bed, max(1, a.rounds), max(1, a.mib), a.vmm_timeout)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
