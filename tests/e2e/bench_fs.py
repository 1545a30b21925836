#!/usr/bin/env python3
"""Benchmark (not a test): virtio-fs through vhost-user (virtiofsd) in vmm vs
QEMU+KVM, side by side in one emulated machine: sequential write and read
throughput (MB/s) and KVM exits per MiB.

  scripts/fetch-qemu-arm64.sh          # once: arm64 QEMU 10 (see bench_vs_qemu.py)
  scripts/fetch-virtiofsd.sh           # once: virtiofsd (see tests/e2e/README.md)
  python3 tests/e2e/bench_fs.py [--vmm PATH] [--vmm-before PATH] [--rounds 1] [--mib 64]

Each program runs under bed/guest/l1-virtiofsd.sh, which starts a fresh
virtiofsd (--cache=auto, --sandbox=none) on a tmpfs in L1 and stops it
afterwards, so both serve the same kind of directory from L1's RAM and the
figures measure the virtualisation path, not a disk. Both guests: the same
L2 kernel, initramfs and command line, 2 vCPUs, 512 MiB of shared memory,
device-tree boot, one virtio-mmio virtio-fs device with tag "share":
  vmm   --boot fdt --cpus boot=2 --memory size=512M,shared=on --rng off
        --fs tag=share,socket=/run/virtiofsd.sock
  qemu  -M virt,gic-version=3,memory-backend=mem -accel kvm -cpu host -smp 2 -m 512M
        -object memory-backend-memfd,id=mem,size=512M,share=on
        -chardev socket,id=vfs,path=/run/virtiofsd.sock
        -device vhost-user-fs-device,chardev=vfs,tag=share
--vmm-before PATH adds a third program, "vmm-before": another vmm binary
(for instance one built from an earlier commit) run with vmm's arguments,
to compare two versions in the same L1 boot.

In the guest (busybox): mount -t virtiofs share /mnt; write: dd of MIB MiB
of zeros in 1 MiB blocks to /mnt/bench.bin, then sync (FUSE_FSYNC and
FUSE_SYNCFS reach virtiofsd), timed together; then the guest drops its page
cache (echo 3 > /proc/sys/vm/drop_caches) so the read goes to the device;
read: dd of the file to /dev/null in 1 MiB blocks. Times come from the
guest's /proc/uptime (10 ms steps). Each phase is bracketed by "E2E
phase=NAME begin/end" lines; L1 runs each program through bench_blk.py's
wrapper, which prints the VM's KVM counters from debugfs at each such line
(the same way for vmm and QEMU). An idle phase (2 s of sleep) gives the
background exit rate, taken off before dividing by the MiB moved. vmm's own
counters come from its virtio-fs exit log line: queue notifications it saw
(0: kicks are ioeventfds served by the backend), interrupts it raised and
backend calls it relayed (0 when the call eventfds are irqfds).

Prints per round and program MB/s and exits per MiB (all exits, and the
MMIO ones handled in user space and in the kernel), then the medians and the
ratios vmm/qemu. It never fails on figures; the exit status is 1 only if a
program produced none.

Caveats: nested under TCG, so absolute figures are far below real hardware
and noisy; what means something is the comparison (same machine, same boot,
alternating). The two front ends differ in more than the call path: QEMU's
virtio-mmio relays the backend's calls through its main loop, vmm hands
them to KVM as irqfds; both take two MMIO exits to user space per guest
interrupt (InterruptStatus, InterruptACK).
"""
import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import blkimg  # noqa: E402
from bed import Case  # noqa: E402
from bed.case import Run  # noqa: E402
from bed.images import L1_INITRD, L1_KERNEL  # noqa: E402
from bench_blk import kvm_phases, wrap_script  # noqa: E402
from bench_vs_qemu import med, qemu_bench_bed, round_order, Q, QEMU_PROG, QEMU_TREE  # noqa: E402
from cases_fs import FS_MODULES, L1_FILES, VIRTIOFSD  # noqa: E402

SOCK = "/run/virtiofsd.sock"
PHASES = ("write", "read")
VMM_FS_LINE = re.compile(r"virtio-fs@0x[0-9a-f]+: (\d+) queue notifications on its I/O thread, "
                         r"(\d+) on vCPU threads .*?, (\d+) interrupts, \d+ resets, \d+ failures"
                         r"(?:, (\d+) backend calls relayed \(call irqfds (on|off)\))?")


def guest_script(mib):
    return f'''
        e2e_load_modules || exit 1
        mkdir -p /mnt
        mount -t virtiofs share /mnt || {{ e2e_kv bench-mount failed; exit 1; }}
        now() {{ cut -d' ' -f1 /proc/uptime; }}
        echo "E2E phase=idle begin"; sleep 2; echo "E2E phase=idle end"; sleep 1
        echo "E2E phase=write begin"; sleep 1
        t0=$(now); dd if=/dev/zero of=/mnt/bench.bin bs=1M count={mib} 2>/dev/null && sync; rc=$?; t1=$(now)
        echo "E2E phase=write end"
        e2e_kv bench-write "$rc $t0 $t1 $(ls -ln /mnt/bench.bin | awk '{{print $5}}')"
        sync; echo 3 >/proc/sys/vm/drop_caches; sleep 1
        echo "E2E phase=read begin"; sleep 1
        t0=$(now); n=$(dd if=/mnt/bench.bin bs=1M 2>/dev/null | wc -c); rc=$?; t1=$(now)
        echo "E2E phase=read end"
        e2e_kv bench-read "$rc $t0 $t1 $n"
        rm -f /mnt/bench.bin
        umount /mnt
    '''


def programs(before):
    fs = ["/bin/sh", "/e2e/l1-virtiofsd.sh", "/bin/sh", "/blk/wrap.sh"]
    vmm_args = f"--boot fdt --cpus boot=2 --memory size=512M,shared=on --rng off --fs tag=share,socket={SOCK}"
    qemu = ["-M", "virt,gic-version=3,memory-backend=mem", "-accel", "kvm", "-cpu", "host",
            "-smp", "2", "-m", "512M", "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
            "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
            "-kernel", L1_KERNEL, "-initrd", L1_INITRD, "-append", "{cmdline}",
            "-chardev", f"socket,id=vfs,path={SOCK}",
            "-device", "vhost-user-fs-device,chardev=vfs,tag=share"]
    p = {"vmm": Run(vmm_args, program=fs + ["/bin/vmm"])}
    if before:
        p["vmm-before"] = Run(vmm_args, program=fs + ["/bin/vmm-before"])
    p["qemu"] = Run(qemu, program=fs + QEMU_PROG, base_args=False)
    return p


def parse_run(run, mib):
    """{phase: {"mbps", "exits", "mmio_user", "mmio_kernel"}} and "_vmm" counters for one run."""
    delta = kvm_phases(run)
    idle_t, idle = delta("idle")
    out = {}
    for name in PHASES:
        v = run.g(f"bench-{name}")
        f = v.split() if v else []
        if len(f) != 4 or f[0] != "0" or int(f[3]) != mib << 20:
            continue
        secs = float(f[2]) - float(f[1])
        if secs <= 0:
            continue
        r = {"mbps": mib * 1.048576 / secs, "secs": secs}
        dt, d = delta(name)
        if d:
            for k, key in (("exits", "exits"), ("mmio_exit_user", "mmio_user"),
                           ("mmio_exit_kernel", "mmio_kernel")):
                if k in d:
                    base = idle[k] / idle_t * dt if idle and idle_t and k in idle else 0
                    r[key] = max(0.0, d[k] - base) / mib
        out[name] = r
    m = next((m for _, t in run.lines for m in [VMM_FS_LINE.search(t)] if m), None)
    if m:
        out["_vmm"] = {"notifies": int(m.group(1)), "vcpu_notifies": int(m.group(2)),
                       "interrupts": int(m.group(3)),
                       "relayed": int(m.group(4)) if m.group(4) else None,
                       "direct": m.group(5)}
    return out


def fmt(r):
    s = f"{r['mbps']:8.2f} MB/s ({r['secs']:.2f} s)"
    if "exits" in r:
        s += (f"  exits/MiB {r['exits']:7.1f} (mmio user {r.get('mmio_user', 0):.1f}, "
              f"kernel {r.get('mmio_kernel', 0):.1f})")
    return s


def bench(bed, rounds, mib, before, vmm_timeout):
    progs = programs(before)
    names = list(progs)
    order = round_order(names, rounds)
    files = dict(L1_FILES)
    files.update({"/blk/wrap.sh": wrap_script(), Q: QEMU_TREE})
    if before:
        files["/bin/vmm-before"] = before
    case = Case("bench_fs", runs=[progs[n] for _, n in order], l1_files=files,
                guest_modules=FS_MODULES, guest_script=guest_script(mib),
                timeout=120 + (vmm_timeout + 10) * len(order), vmm_timeout=vmm_timeout)
    res = bed.run(case)
    results = {n: [] for n in names}
    for run, (rnd, n) in zip(res.runs, order):
        got = parse_run(run, mib)
        results[n].append(got)
        print(f"round {rnd} {n}: exit {run.vmm_exit}", flush=True)
        for p in PHASES:
            print(f"  {p:6s} " + (fmt(got[p]) if p in got else f"no figures ({run.g('bench-' + p)!r})"),
                  flush=True)
        if "_vmm" in got:
            v = got["_vmm"]
            relayed = (f"{v['relayed']} backend calls relayed (call irqfds {v['direct']})"
                       if v["relayed"] is not None else "calls relayed: not reported (interrupts = relayed calls)")
            print(f"  vmm virtio-fs counters: {v['notifies']} queue notifications on its I/O thread, "
                  f"{v['vcpu_notifies']} on vCPU threads, {v['interrupts']} interrupts raised, {relayed}",
                  flush=True)
    if not res.ok:
        print(f"problems: {'; '.join(res.failures)}", flush=True)
        if res.log_path:
            print(f"  log: {res.log_path}", flush=True)
    print(f"\n{mib} MiB sequential, 1 MiB blocks; medians over rounds")
    print(f"{'phase':6s} {'program':10s} {'MB/s':>9s} {'exits/MiB':>10s} {'mmio user':>10s} {'mmio kern':>10s}")
    summary = {}
    for p in PHASES:
        for n in names:
            rs = [g[p] for g in results[n] if p in g]
            s = {k: med([r[k] for r in rs if k in r]) for k in ("mbps", "exits", "mmio_user", "mmio_kernel")}
            summary[(p, n)] = s
            cells = " ".join(f"{s[k]:10.1f}" if s[k] is not None else f"{'n/a':>10s}"
                             for k in ("exits", "mmio_user", "mmio_kernel"))
            print(f"{p:6s} {n:10s} " + (f"{s['mbps']:9.2f} " if s["mbps"] else f"{'n/a':>9s} ") + cells)
    for a in [n for n in names if n != "qemu"]:
        for p in PHASES:
            x, y = summary[(p, a)], summary[(p, "qemu")]
            parts = []
            if x["mbps"] and y["mbps"]:
                parts.append(f"throughput {x['mbps'] / y['mbps']:.3f}")
            if x["exits"] is not None and y["exits"]:
                parts.append(f"exits per MiB {x['exits'] / y['exits']:.3f}")
            print(f"ratio {a}/qemu {p:6s}: " + (", ".join(parts) if parts else "n/a"))
    return 0 if all(any(g.get(p) for g in results[n] for p in PHASES) for n in names) else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", default=str(blkimg.TOP / "build-arm64/cli/vmm"))
    ap.add_argument("--vmm-before", metavar="PATH", help="also run this vmm binary (as vmm-before)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--mib", type=int, default=64, help="file size in MiB (default 64)")
    ap.add_argument("--vmm-timeout", type=int, default=240)
    ap.add_argument("--keep-logs", metavar="DIR")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    if not (VIRTIOFSD / "usr/libexec/virtiofsd").exists():
        print(f"missing {VIRTIOFSD}: run scripts/fetch-virtiofsd.sh first", file=sys.stderr)
        return 2
    bed = qemu_bench_bed(a)
    if bed is None:
        return 2
    try:
        return bench(bed, max(1, a.rounds), max(1, a.mib), a.vmm_before, a.vmm_timeout)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
