#!/usr/bin/env python3
"""Benchmark (not a test): time from vmm start to the nested guest's first
userspace line, ACPI vs FDT boot, alternating in the same emulated machine.

  python3 tests/e2e/bench_boot.py [--vmm PATH] [--rounds N] [--boots B]

Each round runs vmm once with --boot acpi and once with --boot fdt, one after
the other inside one L1 boot (so both modes see the same emulated machine);
--boots spreads the rounds over several L1 boots. Prints each time, the
median per mode and the ratio acpi/fdt. Host-side timestamps of serial lines:
expect +-0.5 s of emulation noise.
"""
import argparse
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bed import Bed, BedConfig, Case  # noqa: E402
from bed.case import DEFAULT_BASE_ARGS, DEFAULT_CMDLINE  # noqa: E402
from bed.runner import TOP  # noqa: E402

MODES = {"acpi": "--boot acpi", "fdt": "--boot fdt"}


def bench(bed, rounds, boots, common, modes=MODES, base_args=DEFAULT_BASE_ARGS,
          cmdline=DEFAULT_CMDLINE, vmm_timeout=60):
    times = {m: [] for m in modes}
    rss = {m: [] for m in modes}
    names = list(modes)
    per_boot = [rounds // boots + (1 if i < rounds % boots else 0) for i in range(boots)]
    rnd = 0
    for b, n in enumerate(per_boot):
        if not n:
            continue
        order = [m for _ in range(n) for m in names]     # acpi, fdt, acpi, fdt, ...
        case = Case(f"bench_boot_{b}", runs=[f"{modes[m]} {common}" for m in order],
                    base_args=base_args, cmdline=cmdline,
                    timeout=90 + (vmm_timeout + 10) * len(order), vmm_timeout=vmm_timeout)
        res = bed.run(case)
        for r, m in zip(res.runs, order):
            if r.index % len(names) == 0:
                rnd += 1
            t = r.t_userspace
            peak = next((int(x.group(1)) for _, line in r.lines
                         for x in [re.search(r"peak RSS (\d+) MiB", line)] if x), None)
            if peak is not None:
                rss[m].append(peak)
            print(f"round {rnd} {m:4s} " + (f"{t:.2f}s" if t is not None else "no userspace line")
                  + f" (vmm exit {r.vmm_exit}, peak RSS {peak if peak is not None else '?'} MiB)",
                  flush=True)
            if t is not None:
                times[m].append(t)
        if not res.ok:
            print(f"boot {b}: problems: {'; '.join(res.failures)}", flush=True)
            if res.log_path:
                print(f"  log: {res.log_path}", flush=True)
            elif len(res.runs) < len(order) or not res.runs:
                print(res.format_log(), flush=True)
    med = {}
    for m in names:
        if times[m]:
            med[m] = statistics.median(times[m])
            print(f"{m} median {med[m]:.2f}s (n={len(times[m])}, "
                  f"min {min(times[m]):.2f}s, max {max(times[m]):.2f}s)"
                  + (f", peak RSS median {statistics.median(rss[m]):.0f} MiB" if rss[m] else ""))
        else:
            print(f"{m} median n/a (n=0)")
    if len(names) == 2 and all(m in med for m in names) and med[names[1]] > 0:
        print(f"ratio {names[0]}/{names[1]} {med[names[0]] / med[names[1]]:.3f}")
    return 0 if all(times[m] for m in names) else 1


def main(argv=None, **kw):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", default=str(TOP / "build-arm64/cli/vmm"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--boots", type=int, default=1, help="spread the rounds over this many L1 boots")
    ap.add_argument("--args", default="--cpus boot=2,max=4 --memory 512M",
                    help="vmm arguments common to both modes")
    ap.add_argument("--cmdline", default=None, help="nested guest kernel command line "
                    f"(default: {DEFAULT_CMDLINE!r})")
    ap.add_argument("--vmm-timeout", type=int, default=60, help="seconds per vmm run (default 60)")
    ap.add_argument("--keep-logs", metavar="DIR", help="save the stamped serial log of each boot")
    ap.add_argument("-v", "--verbose", action="store_true", help="stream the serial log")
    a = ap.parse_args(argv)
    bed = Bed(BedConfig(vmm=Path(a.vmm), echo=a.verbose,
                        keep_logs=Path(a.keep_logs) if a.keep_logs else None),
              note=lambda m: print(m, file=sys.stderr, flush=True))
    if a.cmdline is not None:
        kw["cmdline"] = a.cmdline
    kw.setdefault("vmm_timeout", a.vmm_timeout)
    try:
        return bench(bed, max(1, a.rounds), max(1, min(a.boots, a.rounds)), a.args, **kw)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
