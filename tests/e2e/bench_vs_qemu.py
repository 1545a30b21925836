#!/usr/bin/env python3
"""Benchmark (not a test): vmm vs QEMU+KVM, boot time and peak RSS, side by
side in one emulated machine.

  scripts/fetch-qemu-arm64.sh          # once, by hand: arm64 QEMU 10 + libs + edk2
  python3 tests/e2e/bench_vs_qemu.py [--vmm PATH] [--rounds 3] [--no-efi]

Programs, all started by the L1 /init with the same L2 kernel (/e2e/Image),
initramfs (/e2e/l2.cpio, whose /init prints "E2E userspace" first and powers
off), command line ("quiet panic=-1"), 2 vCPUs and 512 MiB:
  vmm-fdt    vmm --boot fdt
  vmm-acpi   vmm --boot acpi (vmm's default: firmware-less UEFI hand-off)
  qemu-fdt   qemu-system-aarch64 -M virt,gic-version=3 -accel kvm -cpu host
             -smp 2 -m 512M -nodefaults -no-user-config -display none
             -serial stdio -no-reboot -kernel ... -initrd ... -append ...
             (direct kernel boot, device tree)
  qemu-efi   the same plus -bios QEMU_EFI.fd (edk2; loads the kernel's EFI
             stub from fw_cfg; the guest boots with ACPI)
QEMU is Debian's arm64 qemu-system-arm 10 (bookworm-backports), a dynamic
binary run through the arm64 loader from the tree that
scripts/fetch-qemu-arm64.sh leaves in .cache/qemu-arm64/, packed into the L1
initramfs at /qemu (only for this benchmark).

Method: one L1 boot; ROUNDS rounds, each running every program once, one
after the other (the order rotates from round to round so no program always
runs first). Time = host timestamp of the guest's first userspace line
("E2E userspace") minus that of the L1 marker printed just before the program
is launched ("E2E-L1 vmm-start"); it includes program start-up (for QEMU:
dynamic loading of ~50 libraries), firmware (edk2 for qemu-efi) and the guest
kernel boot. Peak RSS = VmHWM of the program's process, read by the L1 shell
from /proc/PID/status every --poll seconds while it runs (the last value read
before it exits), the same way for vmm and QEMU; guest RAM the guest touched
counts, as it is memory of that process. vmm's own "peak RSS" log line
(getrusage) is shown alongside as a cross-check.

Prints each run, then per program the median time (min/max), the median peak
RSS, and the ratios vmm/qemu of the medians. It never fails on timing; the
exit status is 1 only if a program produced no figures at all.

Caveats: everything runs nested under TCG (host -> emulated L1 with EL2 ->
KVM -> L2), so absolute times are many times those of real hardware and
noisy (+-0.5 s and more); what is meaningful is the comparison, made on the
same emulated machine, in the same L1 boot, with the same guest, alternating.
Guest exits (MMIO, timers, firmware) are far costlier nested than on real
hardware, which penalises the chattiest boot path (edk2 most). RSS polling
every 150 ms can miss a short final peak; VmHWM is monotonic, so only growth
in the last interval before exit can be missed.
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
from bed.images import L1_INITRD, L1_KERNEL  # noqa: E402
from bed.runner import TOP  # noqa: E402

QEMU_TREE = TOP / ".cache/qemu-arm64"
Q = "/qemu"       # where QEMU_TREE goes in L1
QEMU_PROG = [f"{Q}/lib/ld-linux-aarch64.so.1", "--library-path", f"{Q}/lib",
             f"{Q}/bin/qemu-system-aarch64"]
QEMU_ARGS = ["-M", "virt,gic-version=3", "-accel", "kvm", "-cpu", "host", "-smp", "2",
             "-m", "512M", "-nodefaults", "-no-user-config", "-display", "none",
             "-serial", "stdio", "-no-reboot",
             "-kernel", L1_KERNEL, "-initrd", L1_INITRD, "-append", "{cmdline}"]
VMM_COMMON = "--cpus boot=2 --memory 512M"
# Guest kernel lines (dumped after the guest's userspace line, so outside the
# timing) that tell how it was booted.
MODE_DMESG = r"Machine model:|ACPI: RSDP|efi: EFI v"
VMM_PEAK = re.compile(r"peak RSS (\d+) MiB")


def programs(efi):
    p = {
        "vmm-fdt": Run(f"--boot fdt {VMM_COMMON}"),
        "vmm-acpi": Run(f"--boot acpi {VMM_COMMON}"),
        "qemu-fdt": Run(QEMU_ARGS, program=QEMU_PROG, base_args=False),
    }
    if efi:
        p["qemu-efi"] = Run(QEMU_ARGS + ["-bios", f"{Q}/share/QEMU_EFI.fd"],
                            program=QEMU_PROG, base_args=False)
    return p


def boot_mode(run):
    text = "\n".join(run.dmesg)
    if "ACPI: RSDP" in text:
        mode = "acpi"
    elif "Machine model:" in text:
        mode = "dt"
    else:
        return "?"
    return mode + ("+efi" if "efi: EFI v" in text else "")


def med(xs):
    return statistics.median(xs) if xs else None


def round_order(names, rounds):
    """(round, name) pairs; each round starts one program later, so that no
    program always runs first (cold caches) or last."""
    order = []
    for r in range(rounds):
        k = r % len(names)
        order += [(r + 1, n) for n in names[k:] + names[:k]]
    return order


def bench(bed, rounds, progs, poll, vmm_timeout):
    names = list(progs)
    order = round_order(names, rounds)
    case = Case("bench_vs_qemu", runs=[progs[n] for _, n in order],
                l1_files={Q: str(QEMU_TREE)}, rss_poll=poll, dmesg=MODE_DMESG,
                timeout=120 + (vmm_timeout + 10) * len(order), vmm_timeout=vmm_timeout)
    res = bed.run(case)
    times = {n: [] for n in names}
    rss = {n: [] for n in names}
    for run, (rnd, n) in zip(res.runs, order):
        t, hwm = run.t_userspace, run.hwm_kib
        own = next((m.group(1) for _, line in run.lines for m in [VMM_PEAK.search(line)] if m), None)
        if t is not None:
            times[n].append(t)
        if hwm is not None:
            rss[n].append(hwm / 1024)
        print(f"round {rnd} {n:8s} "
              + (f"{t:6.2f}s" if t is not None else "no userspace line")
              + (f"  VmHWM {hwm / 1024:6.1f} MiB" if hwm is not None else "  VmHWM ?")
              + (f" (vmm says {own} MiB)" if own else "")
              + f"  exit {run.vmm_exit}  guest boot: {boot_mode(run)}", flush=True)
    if not res.ok:
        print(f"problems: {'; '.join(res.failures)}", flush=True)
        if res.log_path:
            print(f"  log: {res.log_path}", flush=True)
        elif len(res.runs) < len(order):
            print(res.format_log(), flush=True)
    print()
    print(f"{'program':9s} {'n':>2s} {'median':>8s} {'min':>7s} {'max':>7s} {'peak RSS (median)':>18s}")
    for n in names:
        ts, rs = times[n], rss[n]
        if ts:
            line = f"{n:9s} {len(ts):2d} {med(ts):7.2f}s {min(ts):6.2f}s {max(ts):6.2f}s"
        else:
            line = f"{n:9s} {0:2d} {'n/a':>8s} {'':7s} {'':7s}"
        print(line + (f" {med(rs):14.1f} MiB" if rs else f" {'n/a':>18s}"))
    pairs = [("vmm-fdt", "qemu-fdt"), ("vmm-acpi", "qemu-efi"), ("vmm-acpi", "qemu-fdt")]
    for a, b in pairs:
        if a not in names or b not in names:
            continue
        parts = []
        if times[a] and times[b]:
            parts.append(f"time {med(times[a]) / med(times[b]):.3f}")
        if rss[a] and rss[b]:
            parts.append(f"peak RSS {med(rss[a]) / med(rss[b]):.3f}")
        print(f"ratio {a}/{b}: " + (", ".join(parts) if parts else "n/a"))
    return 0 if all(times[n] for n in names) else 1


def qemu_bench_bed(a, efi=False):
    """The bed for a benchmark that runs QEMU beside vmm (a: its parsed
    --vmm, --verbose, --keep-logs), or None, said on stderr, while the arm64
    QEMU tree has not been fetched."""
    need = [QEMU_TREE / ".complete", QEMU_TREE / "bin/qemu-system-aarch64"]
    if efi:
        need.append(QEMU_TREE / "share/QEMU_EFI.fd")
    missing = [str(p) for p in need if not p.exists()]
    if missing:
        print(f"missing {', '.join(missing)}: run scripts/fetch-qemu-arm64.sh first", file=sys.stderr)
        return None
    return Bed(BedConfig(vmm=Path(a.vmm), echo=a.verbose,
                         keep_logs=Path(a.keep_logs) if a.keep_logs else None),
               note=lambda m: print(m, file=sys.stderr, flush=True))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", default=str(TOP / "build-arm64/cli/vmm"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-efi", action="store_true", help="leave out qemu-efi (QEMU with edk2)")
    ap.add_argument("--poll", type=float, default=0.15, help="VmHWM poll interval in seconds (default 0.15)")
    ap.add_argument("--vmm-timeout", type=int, default=120, help="seconds per run (default 120)")
    ap.add_argument("--keep-logs", metavar="DIR", help="save the stamped serial log")
    ap.add_argument("-v", "--verbose", action="store_true", help="stream the serial log")
    a = ap.parse_args(argv)
    bed = qemu_bench_bed(a, efi=not a.no_efi)
    if bed is None:
        return 2
    try:
        return bench(bed, max(1, a.rounds), programs(not a.no_efi), a.poll, a.vmm_timeout)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
