#!/usr/bin/env python3
"""Benchmark (not a test): virtio-net TCP stream throughput, vmm vs QEMU+KVM,
side by side in one emulated machine.

  scripts/fetch-qemu-arm64.sh          # once, by hand: arm64 QEMU 10 + libs
  python3 tests/e2e/bench_net.py [--vmm PATH] [--rounds 2] [--mib 16] [--exit-reasons]

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
Around each transfer L1 also reads the VM's KVM counters (debugfs: exits,
mmio_exit_user, mmio_exit_kernel, wfi_exit_stat), printed per MiB moved: exits
are what a data path costs on real hardware. For vmm, its exit lines add the
device's queue notifications, interrupts and packets for the whole run.
With --exit-reasons, L1 also counts the guest->L1 transfer's exits by kind
(kvm_exit hist trigger: irq = a host interrupt, wfx, mmio = data aborts,
sysreg, hvc) and the host interrupts taken (irq_handler_entry by name: host
timer ticks, IPIs, the guest's vtimer); the triggers cost a little time.
Rounds alternate the programs. Prints each run, the median per program and
direction, and the ratios vmm/qemu (above 1: vmm is faster). It never fails
on the figures; the exit status is 1 only if a program produced none.

Caveats: everything runs nested under TCG (host -> emulated L1 -> KVM ->
L2), so absolute figures are far below real hardware and noisy; what counts
is the comparison on the same machine, in the same L1 boot, alternating.
"""
import argparse
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bed import Case  # noqa: E402
from bed.case import Run  # noqa: E402
from bed.runner import TOP  # noqa: E402
from bench_vs_qemu import qemu_bench_bed, round_order, Q, QEMU_ARGS, QEMU_PROG, QEMU_TREE  # noqa: E402
from cases_net import L1_IP, L2_IP, NET_MODULES, TAP  # noqa: E402

# KVM's per-VM counters (debugfs in L1) taken around each transfer.
KVM_COUNTERS = ("exits", "mmio_exit_user", "mmio_exit_kernel", "wfi_exit_stat")

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
    # The running VM's KVM counters (one VM at a time), and their growth between two snapshots.
    d=/sys/kernel/debug
    [ -d $d/kvm ] || mount -t debugfs none $d 2>/dev/null
    kvm_snap() {{
        for f in {" ".join(KVM_COUNTERS)}; do
            v=0
            for vm in $d/kvm/*-*; do [ -r "$vm/$f" ] && v=$((v + $(cat "$vm/$f"))); done
            printf '%s ' "$v"
        done
    }}
    kvm_delta() {{
        awk -v a="$1" -v b="$2" -v k="{" ".join(KVM_COUNTERS)}" \\
            'BEGIN {{ n = split(k, K, " "); split(a, A, " "); split(b, B, " ");
                     for (i = 1; i <= n; i++) printf " %s=%d", K[i], B[i] - A[i] }}'
    }}
    # --exit-reasons: exits by kind and host interrupts (ftrace hist triggers) around one transfer.
    tr=$d/tracing
    reasons_on() {{
        [ "$REASONS" = 1 ] || return 0
        echo 'hist:keys=ret,esr_ec' > $tr/events/kvm/kvm_exit/trigger &&
            echo 'hist:keys=name' > $tr/events/irq/irq_handler_entry/trigger
    }}
    reasons_off() {{
        [ "$REASONS" = 1 ] || return 0
        e=$(awk '/ret:/ && !/^#/ {{ gsub(/[{{}},]/, " "); r = $2; c = $4; n = $6;
                 k = r == 0 ? "irq" : c == 1 ? "wfx" : c == 36 ? "mmio" : c == 24 ? "sysreg" : c == 22 ? "hvc" : "other";
                 s[k] += n }} END {{ for (k in s) printf " %s=%d", k, s[k] }}' $tr/events/kvm/kvm_exit/hist)
        h=$(awk -F'hitcount:' '/name:/ && !/^#/ {{ sub(/.*name: */, "", $1); sub(/ *}}.*/, "", $1);
                 gsub(/ /, "_", $1); printf " %s=%d", $1, $2 }}' $tr/events/irq/irq_handler_entry/hist)
        echo '!hist:keys=ret,esr_ec' > $tr/events/kvm/kvm_exit/trigger
        echo '!hist:keys=name' > $tr/events/irq/irq_handler_entry/trigger
        printf '\\nE2E-L1 exit-reasons%s host-irqs%s\\n' "$e" "$h"
    }}
    mkfifo /tmp/hold && exec 3<>/tmp/hold
    i=0
    while [ "$i" -lt "$E2E_RUNS" ]; do
        n=600; until e2e_link; do n=$((n - 1)); [ "$n" -gt 0 ] || exit 1; usleep 100000; done
        ip addr add {L1_IP}/24 dev {TAP} && ip link set {TAP} up || exit 1
        e2e_wait_guest "E2E net-ready" 240 || exit 1
        ping -c 2 -W 5 {L2_IP} >/dev/null
        reasons_on
        k0=$(kvm_snap); t0=$(e2e_up)
        b=$(nc {L2_IP} 5000 <&3 | wc -c)
        t1=$(e2e_up); k1=$(kvm_snap)
        # (a leading newline: the guest's output shares the console and may be mid-line)
        printf '\\nE2E-L1 down bytes=%s secs=%s%s\\n' "$b" "$(awk "BEGIN{{print $t1 - $t0}}")" \\
            "$(kvm_delta "$k0" "$k1")"
        reasons_off
        nc -l -p 5003 <&3 >/dev/null & done_pid=$!
        k0=$(kvm_snap); t0=$(e2e_up)
        dd if=/dev/zero bs=64k count=$((MIB * 16)) 2>/dev/null | nc {L2_IP} 5001
        wait $done_pid
        t1=$(e2e_up); k1=$(kvm_snap)
        printf '\\nE2E-L1 up bytes=%s secs=%s%s\\n' "$((MIB * 1048576))" "$(awk "BEGIN{{print $t1 - $t0}}")" \\
            "$(kvm_delta "$k0" "$k1")"
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


def transfer(run, key):
    """{"mibs": MiB/s, "exits": per MiB, ...} of the L1 event `key` ("bytes=B secs=S exits=N ..."), or None."""
    v = run.l(key)
    if not v:
        return None
    kv = dict(p.split("=", 1) for p in v.split() if "=" in p)
    try:
        b, s = int(kv["bytes"]), float(kv["secs"])
    except (KeyError, ValueError):
        return None
    if b <= 0 or s <= 0:
        return None
    out = {"mibs": b / 1048576 / s}
    for k in KVM_COUNTERS:
        if kv.get(k, "").isdigit():
            out[k] = int(kv[k]) / (b / 1048576)
    return out


# vmm's exit lines: the transport's notifications and interrupts, the device's packets.
VMM_VIRTIO_LINE = re.compile(r"virtio-net@0x[0-9a-f]+: (\d+) queue notifications on its I/O thread, "
                             r"(\d+) on vCPU threads .*?, (\d+) interrupts")
VMM_NET_LINE = re.compile(r"virtio-net@0x[0-9a-f]+: rx (\d+) packets (\d+) bytes (\d+) dropped, "
                          r"tx (\d+) packets")


def vmm_counters(run):
    """'notifies N, interrupts N, rx packets N, tx packets N' from vmm's exit lines, or ''."""
    v = next((m for _, t in run.lines for m in [VMM_VIRTIO_LINE.search(t)] if m), None)
    n = next((m for _, t in run.lines for m in [VMM_NET_LINE.search(t)] if m), None)
    if not v or not n:
        return ""
    return (f"notifies {v.group(1)} (vCPU {v.group(2)}), interrupts {v.group(3)}, "
            f"rx {n.group(1)} packets ({n.group(3)} dropped), tx {n.group(4)} packets")


def bench(bed, rounds, mib, vmm_timeout, reasons=False):
    progs = programs()
    names = list(progs)
    order = round_order(names, rounds)
    case = Case("bench_net", runs=[progs[n] for _, n in order],
                guest_modules=NET_MODULES, l1_modules=("tun",),
                guest_script=f"MIB={mib}\n" + GUEST,
                l1_script=f"MIB={mib}\nREASONS={int(reasons)}\n" + L1,
                l1_files={Q: str(QEMU_TREE)},
                timeout=180 + (vmm_timeout + 10) * len(order), vmm_timeout=vmm_timeout)
    res = bed.run(case)
    got = {n: {"down": [], "up": []} for n in names}
    for run, (rnd, n) in zip(res.runs, order):
        line = f"round {rnd} {n:5s}"
        extra = []
        for d, label in (("down", "guest->L1"), ("up", "L1->guest")):
            x = transfer(run, d)
            if x is not None:
                got[n][d].append(x)
                if "exits" in x:
                    extra.append(f"{label}: exits/MiB {x['exits']:.0f} (mmio user "
                                 f"{x.get('mmio_exit_user', 0):.0f}, kernel {x.get('mmio_exit_kernel', 0):.0f}, "
                                 f"wfi {x.get('wfi_exit_stat', 0):.0f})")
            line += f"  {label} " + (f"{x['mibs']:7.2f} MiB/s" if x is not None else "    n/a")
        print(line + f"  exit {run.vmm_exit}", flush=True)
        if (r := run.l("exit-reasons")):
            extra.append(f"guest->L1 exits by kind (whole transfer): {r}")
        for e in extra + ([c] if (c := vmm_counters(run)) else []):
            print(f"    {e}", flush=True)
    if not res.ok:
        print(f"problems: {'; '.join(res.failures)}", flush=True)
        if res.log_path:
            print(f"  log: {res.log_path}", flush=True)
    print()
    print(f"{'program':8s} {'guest->L1 (median)':>20s} {'L1->guest (median)':>20s}"
          f" {'exits/MiB down':>15s} {'exits/MiB up':>13s}")

    def med(n, d, k):
        xs = [x[k] for x in got[n][d] if k in x]
        return statistics.median(xs) if xs else None

    for n in names:
        cells = [f"{m:13.2f} MiB/s" if (m := med(n, d, "mibs")) is not None else f"{'n/a':>19s}"
                 for d in ("down", "up")]
        ex = [f"{m:.0f}" if (m := med(n, d, "exits")) is not None else "n/a" for d in ("down", "up")]
        print(f"{n:8s} {cells[0]:>20s} {cells[1]:>20s} {ex[0]:>15s} {ex[1]:>13s}")
    parts = []
    for d, label in (("down", "guest->L1"), ("up", "L1->guest")):
        a, b = med("vmm", d, "mibs"), med("qemu", d, "mibs")
        parts.append(f"{label} {a / b:.3f}" if a and b else f"{label} n/a")
    print("ratio vmm/qemu (throughput): " + ", ".join(parts))
    return 0 if all(got[n]["down"] or got[n]["up"] for n in names) else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", default=str(TOP / "build-arm64/cli/vmm"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--mib", type=int, default=16, help="MiB per direction per run (default 16)")
    ap.add_argument("--vmm-timeout", type=int, default=300, help="seconds per run (default 300)")
    ap.add_argument("--exit-reasons", action="store_true",
                    help="count guest->L1 exits by kind and host interrupts (ftrace hist triggers in L1)")
    ap.add_argument("--keep-logs", metavar="DIR", help="save the stamped serial log")
    ap.add_argument("-v", "--verbose", action="store_true", help="stream the serial log")
    a = ap.parse_args(argv)
    bed = qemu_bench_bed(a)
    if bed is None:
        return 2
    try:
        return bench(bed, max(1, a.rounds), max(1, a.mib), a.vmm_timeout, a.exit_reasons)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
