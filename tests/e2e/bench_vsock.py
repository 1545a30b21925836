#!/usr/bin/env python3
"""Benchmark (not a test): virtio-vsock stream throughput, guest -> host and
host -> guest, in one emulated machine.

  python3 tests/e2e/bench_vsock.py [--vmm PATH] [--vmm-before PATH] [--rounds 1] [--mb 32] [--no-qemu]

vmm runs with --vsock cid=3 (hybrid vsock: the host end is vmm's unix
socket). In the nested guest, `vsock-tool vbench 1100` serves each
connection: "send N" writes N MiB, "recv N" reads N MiB and answers. In L1,
`vsock-tool hbench` dials through vmm's socket (CONNECT 1100) and times the
transfer from its request to the last byte (or the guest's answer).
--vmm-before PATH first runs another vmm binary ("vmm-before") on
the same guest in the same boot, to compare versions under the same load;
--rounds N repeats the vmm runs (before and after alternating) N times and
prints medians; consecutive vmm runs alternate between cid=3 and cid=5.
Exits: vmm logs, per device at exit, its queue notifications (ioeventfd:
the guest's MMIO write is handled in L1's KVM, no exit to vmm) and its
interrupts (irqfd); both are printed per MiB moved.

QEMU has no hybrid vsock; the comparison is its vhost-vsock-pci device
(the data path in L1's vhost_vsock kernel module, host end AF_VSOCK), when
scripts/fetch-qemu-arm64.sh has left QEMU in .cache/qemu-arm64: L1 loads
vhost_vsock from the kernel package, QEMU runs with guest-cid=4 and the same
guest, and L1 dials it with `vsock-tool vbenchc 4 1100`. The two host sides
differ (a unix socket relayed by vmm's I/O thread vs an in-kernel vhost
worker), so the figures compare whole paths, not devices. Everything runs
nested under TCG: absolute figures are far below real hardware.

Exit status: 0 whatever the figures; 1 when the run broke (an L1 step
failed, printed as "failed step: <step> rc=<status> <its message>", vmm or
QEMU exited badly, the guest script failed, the machine timed out).
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
from bed.modules import ModuleCache  # noqa: E402
from bed.runner import TOP  # noqa: E402
from bench_vs_qemu import QEMU_ARGS, QEMU_PROG, QEMU_TREE, Q  # noqa: E402
from cases_vsock import TOOL, VSOCK_MODULES  # noqa: E402

SOCK = "/run/vsock.sock"
VMM_ARGS = "--boot fdt --cpus boot=2 --memory 512M --vsock cid={cid},socket=" + SOCK
VMM_CIDS = (3, 5)
QEMU_CID = 4

GUEST = '''
    e2e_load_modules || exit 1
    n=100
    while [ "$n" -gt 0 ] && ! ls /sys/bus/virtio/drivers/vmw_vsock_virtio_transport 2>/dev/null | grep -q virtio; do
        usleep 100000; n=$((n - 1))
    done
    vsock-tool vbench 1100 &
    usleep 200000
    e2e_kv bench-ready "$(vsock-tool cid)"
    vsock-tool vwait 1099 >/dev/null
'''

# L1: every step prints its output as `E2E-L1 <key>=...`; one that fails
# (a tool's non-zero status: a connection refused or reset, short data, the
# guest's answer missing) is named with its status and its error message in
# `E2E-L1 step-failed=`, and the script ends with status 1 after the rest
# ran. Figures themselves never fail the run.
L1_STEP = '''
    failed=0
    step() {
        k=$1; shift
        out=$("$@" 2>/tmp/step.err); rc=$?
        echo "E2E-L1 $k=$out"
        if [ "$rc" != 0 ]; then
            echo "E2E-L1 step-failed=$k rc=$rc $(head -c 200 /tmp/step.err | tr '\\n' ' ')"
            failed=1
        fi
    }
'''

# The last step ends the guest's `vwait`, which echoes "done": a clean
# close with the whole message back is the last check of the connection.
L1_VMM = '''
    if e2e_wait_guest "E2E bench-ready={cid}" 150; then
        step {key}-g2h vsock-tool hbench {sock} 1100 recv {mb}
        step {key}-h2g vsock-tool hbench {sock} 1100 send {mb}
    else
        echo "E2E-L1 step-failed={key}-ready the guest never said bench-ready"; failed=1
    fi
    step {key}-done vsock-tool hconnect {sock} 1099 done
'''

L1_QEMU = '''
    if e2e_wait_guest "E2E bench-ready={cid}" 200; then
        step qemu-g2h vsock-tool vbenchc {cid} 1100 recv {mb}
        step qemu-h2g vsock-tool vbenchc {cid} 1100 send {mb}
    else
        echo "E2E-L1 step-failed=qemu-ready the guest never said bench-ready"; failed=1
    fi
    step qemu-done vsock-tool vconnect {cid} 1099 done
'''

L1_END = '''
    exit $failed
'''

VMM_COUNTS = re.compile(r"virtio-vsock@0x[0-9a-f]+: (\d+) queue notifications on its I/O thread, "
                        r"(\d+) on vCPU threads .*?, (\d+) interrupts")
CREDIT_REQS = re.compile(r"virtio-vsock@0x[0-9a-f]+: .* (\d+) credit requests")
MBPS = re.compile(r"mbps=([\d.]+)")


def figure(res, key):
    """The median over the runs that printed key (one per round)."""
    xs = [float(m.group(1)) for r in res.runs for v in [r.l(key)] if v for m in [MBPS.search(v)] if m]
    return statistics.median(xs) if xs else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", default=str(TOP / "build-arm64/cli/vmm"))
    ap.add_argument("--mb", type=int, default=32, help="MiB per direction (default 32)")
    ap.add_argument("--vmm-before", metavar="PATH", help="also run this vmm binary first (as vmm-before)")
    ap.add_argument("--rounds", type=int, default=1, help="vmm runs (and vmm-before runs) each (default 1)")
    ap.add_argument("--no-qemu", action="store_true", help="vmm only")
    ap.add_argument("--keep-logs", metavar="DIR", help="save the stamped serial log")
    ap.add_argument("-v", "--verbose", action="store_true", help="stream the serial log")
    a = ap.parse_args(argv)
    if not TOOL.exists():
        print(f"missing {TOOL}: run scripts/build.sh", file=sys.stderr)
        return 2
    qemu = not a.no_qemu and (QEMU_TREE / ".complete").exists()
    if not a.no_qemu and not qemu:
        print("QEMU not in .cache/qemu-arm64 (scripts/fetch-qemu-arm64.sh): vmm only", flush=True)

    runs, labels, l1, l1_files = [], [], "", {"/bin/vsock-tool": str(TOOL)}
    if a.vmm_before:
        l1_files["/bin/vmm-before"] = a.vmm_before
    order = [("vmm-before", "before", ["/bin/vmm-before"])] if a.vmm_before else []
    order.append(("vmm", "vmm", ["/bin/vmm"]))
    for _ in range(max(1, a.rounds)):
        for label, key, prog in order:
            # Consecutive runs differ in CID: L1 never takes the last run's ready line.
            cid = VMM_CIDS[len(runs) % 2]
            runs.append(Run(VMM_ARGS.format(cid=cid), program=prog))
            labels.append(label)
            l1 += L1_VMM.format(key=key, cid=cid, sock=SOCK, mb=a.mb)
    if qemu:
        cfg = BedConfig(vmm=Path(a.vmm))
        kos = ModuleCache(cfg.cache, cfg.kernel).resolve(["vhost_vsock"])
        for ko in kos:
            l1_files[f"/vhost/{ko.name}"] = str(ko)
        insmod = "".join(f"insmod /vhost/{ko.name} || "
                         f"{{ echo 'E2E-L1 step-failed=insmod {ko.name}'; failed=1; }}\n" for ko in kos)
        l1 = insmod + l1 + L1_QEMU.format(cid=QEMU_CID, mb=a.mb)
        l1_files[Q] = str(QEMU_TREE)
        runs.append(Run(QEMU_ARGS + ["-device", f"vhost-vsock-pci,guest-cid={QEMU_CID}"],
                        program=QEMU_PROG, base_args=False))
    l1 = L1_STEP + l1 + L1_END
    case = Case("bench_vsock", runs=runs, guest_modules=VSOCK_MODULES, guest_script=GUEST,
                l1_script=l1, l1_files=l1_files, l2_files={"/bin/vsock-tool": str(TOOL)},
                timeout=200 + 200 * len(runs), vmm_timeout=180)
    bed = Bed(BedConfig(vmm=Path(a.vmm), echo=a.verbose,
                        keep_logs=Path(a.keep_logs) if a.keep_logs else None),
              note=lambda m: print(m, file=sys.stderr, flush=True))
    try:
        res = bed.run(case)
    except KeyboardInterrupt:
        return 130
    # What broke, besides the bed's own findings: the L1 steps that failed.
    steps = [e.value for evs in [res.l1] + [r.l1 for r in res.runs]
             for e in evs.get("step-failed", [])]
    if not res.ok:
        print(f"problems: {'; '.join(res.failures)}", flush=True)
        for v in steps:
            print(f"  failed step: {v}", flush=True)
        if res.log_path:
            print(f"  log: {res.log_path}", flush=True)

    rows = ([("vmm-before", "before")] if a.vmm_before else []) + [("vmm (hybrid vsock)", "vmm")] + \
        ([("qemu (vhost-vsock-pci)", "qemu")] if qemu else [])
    print(f"\n{a.mb} MiB per direction" + (f", median of {a.rounds} vmm runs" if a.rounds > 1 else ""))
    print(f"{'':24s} {'guest->host':>12s} {'host->guest':>12s}")
    for label, key in rows:
        g2h, h2g = figure(res, f"{key}-g2h"), figure(res, f"{key}-h2g")
        cell = lambda v: f"{v:8.1f} MB/s" if v is not None else f"{'n/a':>12s}"  # noqa: E731
        print(f"{label:24s} {cell(g2h)} {cell(h2g)}")
    if not qemu:
        print("QEMU has no hybrid vsock (its vhost-vsock needs the host's vhost_vsock module): "
              "no QEMU figures")
    for r, label in zip(res.runs, labels):
        counts = next((m for _, line in r.lines for m in [VMM_COUNTS.search(line)] if m), None)
        if not counts:
            continue
        notif, vcpu, irqs = (int(x) for x in counts.groups())
        moved = 2 * a.mb
        creq = next((m.group(1) for _, line in r.lines for m in [CREDIT_REQS.search(line)] if m), None)
        print(f"{label}: {notif / moved:.1f} queue notifications and {irqs / moved:.1f} interrupts per MiB "
              f"({notif} and {irqs} for {moved} MiB; {vcpu} notifications reached a vCPU thread"
              + (f"; {creq} credit requests)" if creq is not None else ")"))
    # Timing never fails; a run that broke (a step, vmm or QEMU, the guest) does.
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
