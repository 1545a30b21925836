#!/usr/bin/env python3
"""Benchmark (not a test): virtio-blk in vmm vs QEMU+KVM, side by side in
one emulated machine: sequential 1 MiB and random 4 KiB reads and writes,
throughput (MB/s) and IOPS, and KVM exits per I/O.

  scripts/fetch-qemu-arm64.sh          # once: arm64 QEMU 10 (see bench_vs_qemu.py)
  python3 tests/e2e/bench_blk.py [--vmm PATH] [--rounds 2] [--seconds 5] [--threads 1]

Both run the same L2 kernel, initramfs and command line, 2 vCPUs, 512 MiB,
device-tree boot, and two virtio-mmio disks: a 32 MiB raw image (the
benchmark's target) and a small read-only disk carrying the benchmark
program. Both disks are files in L1's RAM (the L1 initramfs), so the
figures measure the virtualisation path, not a storage device.
  vmm   --boot fdt --disk path=/blk/bench.img,num_queues=2 --disk path=/blk/tool.img,readonly=on
  qemu  -M virt -accel kvm ... -drive if=none,file=/blk/bench.img,format=raw,aio=io_uring
        -device virtio-blk-device,drive=...,num-queues=2 (and the tool disk)
Both use the host page cache (vmm's default; QEMU's cache=writeback).

In the guest, blkbench (tests/e2e/blkbench/blkbench.c, built static for
aarch64 here; fio would need shared libraries and busybox dd cannot do
random offsets) opens the disk with O_DIRECT and does synchronous
pread/pwrite for --seconds per workload, --threads threads (one request in
flight each): seqread and seqwrite with 1 MiB, randread and randwrite with
4 KiB. Each workload is bracketed by "E2E phase=NAME begin/end" lines and a
1 s pause; L1 runs each program through a wrapper that, when such a line
passes, prints the VM's KVM counters from debugfs
(/sys/kernel/debug/kvm/<pid>-<fd>/: exits, mmio_exit_user,
mmio_exit_kernel, ...), the same way for vmm and QEMU. An idle phase (2 s
of sleep) gives the background exit rate (timer, idle), which is taken off
before dividing by the number of I/Os. vmm's own counters (requests,
notifies, interrupts, io_uring submissions) come from its exit log line.

Prints per round and program each workload's MB/s, IOPS and exits per I/O,
then the medians and the ratios vmm/qemu. It never fails on figures; the
exit status is 1 only if a program produced none.

Caveats: nested under TCG, so absolute figures are far below real hardware
and noisy; the comparison (same machine, same boot, alternating) is what
means something. A 1 MiB request may reach the device as two (seg_max).
"""
import argparse
import hashlib
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import blkimg  # noqa: E402
from bed import Case  # noqa: E402
from bed.case import Run  # noqa: E402
from bed.images import L1_INITRD, L1_KERNEL  # noqa: E402
from bench_vs_qemu import med, qemu_bench_bed, round_order, Q, QEMU_PROG, QEMU_TREE  # noqa: E402

BENCH_MIB = 32
WORKLOADS = [("seqread", 1 << 20), ("seqwrite", 1 << 20), ("randread", 4096), ("randwrite", 4096)]
COUNTERS = ("exits", "mmio_exit_user", "mmio_exit_kernel", "wfi_exit_stat", "hvc_exit_stat",
            "irq_exits", "signal_exits")
VMM_DISK_LINE = re.compile(r"disk 0: (\d+) requests .*?, (\d+) io_uring submissions, (\d+) completion wake-ups")
VMM_VIRTIO_LINE = re.compile(r"virtio-blk@0xa000000: (\d+) queue notifications on its I/O thread, "
                             r"(\d+) on vCPU threads .*?, (\d+) interrupts")

WRAP = r"""#!/bin/busybox sh
# Run a VMM (args: program and its arguments) with its output passing
# through; at each "E2E phase=NAME begin|end" line from the guest, print the
# VM's KVM counters: "E2E-L1 kvmstat phase=NAME:begin|end exits=N ...".
d=/sys/kernel/debug
[ -d $d/kvm ] || mount -t debugfs none $d 2>/dev/null
snap() {
	for v in $d/kvm/*-*; do
		[ -d "$v" ] || continue
		out=
		for f in %s; do
			[ -r "$v/$f" ] && out="$out $f=$(cat "$v/$f")"
		done
		echo "E2E-L1 kvmstat $1$out"
	done
}
set -o pipefail
"$@" 2>&1 | while IFS= read -r line; do
	echo "$line"
	case "$line" in
	*"E2E phase="*)
		p=$(echo "${line#*E2E phase=}" | tr -d '\r' | tr ' ' ':')
		snap "phase=$p" ;;
	esac
done
""" % " ".join(COUNTERS)


def build_blkbench() -> Path:
    src = HERE / "blkbench/blkbench.c"
    key = hashlib.sha256(src.read_bytes()).hexdigest()[:16]
    out = blkimg.CACHE / f"blkbench-{key}"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["aarch64-linux-gnu-gcc", "-static", "-O2", "-o", str(out), str(src), "-lpthread"],
                       check=True)
    return out


def tool_disk(prog: Path) -> Path:
    data = prog.read_bytes()
    data += bytes(-len(data) % 512)
    return blkimg._fresh(blkimg.CACHE / f"tool-{hashlib.sha256(data).hexdigest()[:16]}.img",
                         lambda p: p.write_bytes(data))


def wrap_script() -> Path:
    key = hashlib.sha256(WRAP.encode()).hexdigest()[:16]
    return blkimg._fresh(blkimg.CACHE / f"wrap-{key}.sh", lambda p: p.write_text(WRAP))


def guest_script(tool_bytes, seconds, threads):
    phases = "".join(f"phase {name} {bs}\n" for name, bs in WORKLOADS)
    return f'''
        e2e_load_modules || exit 1
        e2e_wait_path /dev/vdb 20 || exit 1
        bench= tool=
        for d in /sys/block/vd*; do
            if [ "$(cat $d/size)" = "{(tool_bytes + 511) // 512}" ]; then tool=/dev/${{d##*/}}; else bench=/dev/${{d##*/}}; fi
        done
        head -c {tool_bytes} "$tool" >/tmp/blkbench && chmod +x /tmp/blkbench || exit 1
        e2e_kv bench-disk "$bench $(cat /sys/block/${{bench#/dev/}}/size) queues=$(ls /sys/block/${{bench#/dev/}}/mq | wc -l)"
        echo "E2E phase=idle begin"; sleep 2; echo "E2E phase=idle end"; sleep 1
        phase() {{
            echo "E2E phase=$1 begin"; sleep 1
            /tmp/blkbench "$bench" "$1" "$2" {seconds} {threads} || echo "E2E bench-$1=failed"
            echo "E2E phase=$1 end"; sleep 1
        }}
        {phases}
    '''


def programs(threads):
    disks = (f"--disk path=/blk/bench.img,num_queues=2 --disk path=/blk/tool.img,readonly=on")
    qemu = ["-M", "virt,gic-version=3", "-accel", "kvm", "-cpu", "host", "-smp", "2", "-m", "512M",
            "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
            "-kernel", L1_KERNEL, "-initrd", L1_INITRD, "-append", "{cmdline}",
            "-drive", "if=none,id=bench,file=/blk/bench.img,format=raw,aio=io_uring,cache=writeback",
            "-device", "virtio-blk-device,drive=bench,num-queues=2",
            "-drive", "if=none,id=tool,file=/blk/tool.img,format=raw,readonly=on",
            "-device", "virtio-blk-device,drive=tool"]
    wrap = ["/bin/sh", "/blk/wrap.sh"]
    return {
        "vmm": Run(f"--boot fdt --cpus boot=2 --memory 512M --rng off {disks}", program=wrap + ["/bin/vmm"]),
        "qemu": Run(qemu, program=wrap + QEMU_PROG, base_args=False),
    }


def kvm_phases(run):
    """The KVM counters WRAP printed at one run's phase lines, as a function
    phase name -> (host seconds, {counter: increase}), (None, None) if missing."""
    snaps = {}
    for ev in run.l1.get("kvmstat", []):
        head, *kv = ev.value.split()
        if not head.startswith("phase="):
            continue
        vals = dict(x.split("=", 1) for x in kv)
        snaps[head[len("phase="):]] = (ev.t, {k: int(v) for k, v in vals.items() if v.isdigit()})

    def delta(name):
        b, e = snaps.get(f"{name}:begin"), snaps.get(f"{name}:end")
        if not b or not e:
            return None, None
        return e[0] - b[0], {k: e[1][k] - b[1].get(k, 0) for k in e[1]}
    return delta


def parse_run(run):
    """{workload: {"mbps", "iops", "ops", "exits", "mmio_user", "mmio_kernel"}} for one run."""
    delta = kvm_phases(run)
    idle_t, idle = delta("idle")
    out = {}
    for name, _ in WORKLOADS:
        v = run.g(f"bench-{name}")
        if not v or v == "failed":
            continue
        mbps, iops, ops, _secs = v.split()
        r = {"mbps": float(mbps), "iops": float(iops), "ops": int(ops)}
        dt, d = delta(name)
        if d and r["ops"]:
            for k, key in (("exits", "exits"), ("mmio_exit_user", "mmio_user"),
                           ("mmio_exit_kernel", "mmio_kernel")):
                if k in d:
                    base = idle[k] / idle_t * dt if idle and idle_t and k in idle else 0
                    r[key] = max(0.0, d[k] - base) / r["ops"]
        out[name] = r
    m = next((VMM_DISK_LINE.search(t) for _, t in run.lines if VMM_DISK_LINE.search(t)), None)
    v = next((VMM_VIRTIO_LINE.search(t) for _, t in run.lines if VMM_VIRTIO_LINE.search(t)), None)
    if m and v:
        out["_vmm"] = dict(zip(("requests", "submits", "wakeups", "notifies", "vcpu_notifies", "interrupts"),
                               map(int, m.groups() + v.groups())))
    return out


def fmt(r):
    s = f"{r['mbps']:8.2f} MB/s {r['iops']:8.1f} IOPS"
    if "exits" in r:
        s += f"  exits/IO {r['exits']:6.2f} (mmio user {r.get('mmio_user', 0):.2f}, kernel {r.get('mmio_kernel', 0):.2f})"
    return s


def bench(bed, rounds, seconds, threads, vmm_timeout):
    prog = build_blkbench()
    tool = tool_disk(prog)
    progs = programs(threads)
    names = list(progs)
    order = round_order(names, rounds)
    files = blkimg.LazyFiles(lambda: {
        "/blk/bench.img": blkimg.zero_image(BENCH_MIB << 20), "/blk/tool.img": tool,
        "/blk/wrap.sh": wrap_script(), Q: QEMU_TREE})
    case = Case("bench_blk", runs=[progs[n] for _, n in order], l1_files=files,
                guest_modules=["virtio_mmio", "virtio_blk"],
                guest_script=guest_script(prog.stat().st_size, seconds, threads),
                timeout=120 + (vmm_timeout + 10) * len(order), vmm_timeout=vmm_timeout)
    res = bed.run(case)
    results = {n: [] for n in names}
    for run, (rnd, n) in zip(res.runs, order):
        got = parse_run(run)
        results[n].append(got)
        print(f"round {rnd} {n}: exit {run.vmm_exit}, disk {run.g('bench-disk')}", flush=True)
        for w, _ in WORKLOADS:
            print(f"  {w:9s} " + (fmt(got[w]) if w in got else "no figures"), flush=True)
        if "_vmm" in got:
            v = got["_vmm"]
            print(f"  vmm disk counters: {v['requests']} requests, {v['notifies']} notifies "
                  f"({v['vcpu_notifies']} via vCPU exits), {v['interrupts']} interrupts, "
                  f"{v['submits']} io_uring submissions, {v['wakeups']} completion wake-ups", flush=True)
    if not res.ok:
        print(f"problems: {'; '.join(res.failures)}", flush=True)
        if res.log_path:
            print(f"  log: {res.log_path}", flush=True)
    print()
    print(f"{'workload':9s} {'program':5s} {'MB/s':>9s} {'IOPS':>9s} {'exits/IO':>9s}   (medians over rounds)")
    summary = {}
    for w, _ in WORKLOADS:
        for n in names:
            rs = [g[w] for g in results[n] if w in g]
            s = {k: med([r[k] for r in rs if k in r]) for k in ("mbps", "iops", "exits")}
            summary[(w, n)] = s
            if rs:
                ex = f"{s['exits']:9.2f}" if s["exits"] is not None else f"{'n/a':>9s}"
                print(f"{w:9s} {n:5s} {s['mbps']:9.2f} {s['iops']:9.1f} {ex}")
            else:
                print(f"{w:9s} {n:5s} {'n/a':>9s}")
    for w, _ in WORKLOADS:
        a, b = summary[(w, "vmm")], summary[(w, "qemu")]
        parts = []
        if a["iops"] and b["iops"]:
            parts.append(f"throughput/IOPS {a['iops'] / b['iops']:.3f}")
        if a["exits"] is not None and b["exits"]:
            parts.append(f"exits per I/O {a['exits'] / b['exits']:.3f}")
        print(f"ratio vmm/qemu {w:9s}: " + (", ".join(parts) if parts else "n/a"))
    return 0 if all(results[n] and any(g for g in results[n]) for n in names) else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", default=str(blkimg.TOP / "build-arm64/cli/vmm"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5, help="per workload (default 5)")
    ap.add_argument("--threads", type=int, default=1, help="guest threads, one I/O in flight each")
    ap.add_argument("--vmm-timeout", type=int, default=240)
    ap.add_argument("--keep-logs", metavar="DIR")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    bed = qemu_bench_bed(a)
    if bed is None:
        return 2
    try:
        return bench(bed, max(1, a.rounds), a.seconds, max(1, a.threads), a.vmm_timeout)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
