#!/usr/bin/env python3
"""Run the nested end-to-end tests.

  python3 tests/e2e/run.py [--vmm PATH] [--vmmctl PATH] [-k FILTER] [--keep-logs DIR]

Prints "PASS name (Ns)" or "FAIL name: reason" per case and a last line
"N passed, N failed"; exits 1 if any case failed.
"""
import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bed import Bed, BedConfig  # noqa: E402
from bed.runner import TOP  # noqa: E402


def select(cases, filters):
    if not filters:
        return list(cases)
    return [c for c in cases if any(f in c.name for f in filters)]


def report_timing(res):
    for r in res.runs:
        t = r.t_userspace
        el = r.l("vmm-elapsed")
        print(f"  {res.case.name}[{r.index}]: vmm start -> guest userspace "
              f"{'%.2fs' % t if t is not None else 'n/a'}, vmm ran {el or '?'}s "
              f"(L1 clock), machine {res.wall:.1f}s", flush=True)


def run_cases(bed, cases):
    passed = failed = 0
    for case in cases:
        res = bed.run(case)
        if res.ok:
            passed += 1
            print(f"PASS {case.name} ({res.wall:.0f}s)", flush=True)
            report_timing(res)
        else:
            failed += 1
            print(f"FAIL {case.name}: {'; '.join(res.failures)}", flush=True)
            if res.lines:
                print(f"----- serial log of {case.name} (host seconds since qemu start) -----")
                print(res.format_log())
                print(f"----- end of {case.name} log -----", flush=True)
        if res.log_path:
            print(f"  log: {res.log_path}", flush=True)
    return passed, failed


def main(argv=None, cases=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", default=str(TOP / "build-arm64/cli/vmm"),
                    help="aarch64 static vmm binary (default: build-arm64/cli/vmm)")
    ap.add_argument("--vmmctl", help="aarch64 static vmmctl (default: vmmctl next to --vmm, if any)")
    ap.add_argument("-k", action="append", default=[], metavar="FILTER",
                    help="run only cases whose name contains FILTER (repeatable)")
    ap.add_argument("--keep-logs", metavar="DIR", help="save each case's stamped serial log in DIR")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="stream the serial log while running; print timings")
    ap.add_argument("--qemu", default="qemu-system-aarch64", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if cases is None:
        from cases import CASES as cases
    chosen = select(cases, args.k)
    if args.list:
        for c in chosen:
            print(c.name)
        return 0

    vmm = Path(args.vmm)
    vmmctl = Path(args.vmmctl) if args.vmmctl else None
    if vmmctl is None and (vmm.parent / "vmmctl").is_file():
        vmmctl = vmm.parent / "vmmctl"
    cfg = BedConfig(vmm=vmm, vmmctl=vmmctl, qemu=args.qemu,
                    keep_logs=Path(args.keep_logs) if args.keep_logs else None, echo=args.verbose)
    bed = Bed(cfg, note=lambda m: print(m, file=sys.stderr, flush=True))
    if not chosen:
        print(f"no case matches {args.k}", file=sys.stderr)
    try:
        passed, failed = run_cases(bed, chosen)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not chosen else 0


if __name__ == "__main__":
    sys.exit(main())
