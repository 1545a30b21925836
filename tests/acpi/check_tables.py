#!/usr/bin/env python3
"""Check a directory of dumped ACPI tables (DIR/<SIG>.dat, RSDP.dat).

  check_tables.py DIR [--boot N]
  check_tables.py --vmm VMM --cpus boot=N,max=M            (vmm --dump-acpi)

1. Binary checks: checksums, RSDP/FADT fields, MADT GICC flags and UIDs.
2. iasl -d on every table, then iasl on the result: any error, warning or
   remark fails.
3. acpiexec loads the tables plus harness.asl and evaluates the CPU
   methods: _UID, _STA (0xD / 0xF, never 0), _EJ0, _OST, and the GED _EVT
   scan (driven by NEXT_EVENT, bounded) with its Notify()s. acpiexec backs SystemMemory with RAM, so the
   harness writes the registers the VMM would drive.
"""
import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

import check_virtio

HERE = os.path.dirname(os.path.abspath(__file__))
SIGS = ["RSDP", "XSDT", "FACP", "APIC", "GTDT", "SPCR", "DSDT"]
GICC_ENABLED, GICC_ONLINE_CAPABLE = 1 << 0, 1 << 3
STA_DISABLED, STA_ENABLED = 0x0D, 0x0F
ST_ENABLED, ST_INSERT, ST_REMOVE = 1, 2, 4
CMD_CLEAR_INSERT, CMD_CLEAR_REMOVE, CMD_EJECT = 1, 2, 3
NO_EVENT = 0xFFFFFFFF
REDIST_STRIDE = 0x20000  # RD + SGI frames
PPI_PMU = 23
BATCH_MAX = 1000  # acpiexec ignores a -b command line over 1 KiB


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def cpu_path(uid):
    return "\\_SB.CPUS.C%03X" % uid


# ---- 1. binary checks --------------------------------------------------------

def check_binary(t, boot):
    for sig in SIGS[1:]:
        d = t[sig]
        check(d[0:4].decode() == sig, "%s: signature %r" % (sig, d[0:4]))
        check(struct.unpack_from("<I", d, 4)[0] == len(d), "%s: length field" % sig)
        check(sum(d) & 0xFF == 0, "%s: checksum" % sig)
        check(d[10:16] == b"VMMVMM", "%s: OEM ID %r" % (sig, d[10:16]))
    r = t["RSDP"]
    check(len(r) == 36 and r[0:8] == b"RSD PTR ", "RSDP: signature/length")
    check(sum(r[0:20]) & 0xFF == 0 and sum(r) & 0xFF == 0, "RSDP: checksums")
    check(r[15] == 2 and struct.unpack_from("<I", r, 20)[0] == 36, "RSDP: revision 2")
    check(len(t["XSDT"]) == 36 + 8 * 4, "XSDT: expected 4 entries (FACP APIC GTDT SPCR)")

    f = t["FACP"]
    check(len(f) == 276 and f[8] == 6 and f[131] == 5, "FADT: not revision 6.5")
    check(struct.unpack_from("<I", f, 112)[0] & (1 << 20), "FADT: HW_REDUCED_ACPI not set")
    check(struct.unpack_from("<H", f, 129)[0] == 3, "FADT: ARM_BOOT_ARCH != PSCI|HVC")
    check(struct.unpack_from("<Q", f, 140)[0] != 0, "FADT: X_DSDT is 0")

    m, off, cpus, gicd, gicr = t["APIC"], 44, [], 0, []
    while off < len(m):
        typ, ln = m[off], m[off + 1]
        check(ln >= 2 and off + ln <= len(m), "MADT: bad subtable at %d" % off)
        if typ == 0x0B:
            check(ln == 82, "MADT: GICC length %d" % ln)
            iface, uid, flags = struct.unpack_from("<III", m, off + 4)
            check(iface == uid, "MADT: GICC interface %d != uid %d" % (iface, uid))
            check(flags & 9 in (GICC_ENABLED, GICC_ONLINE_CAPABLE),
                  "MADT: GICC uid %d flags %#x: want Enabled xor Online Capable" % (uid, flags))
            perf, maint = (struct.unpack_from("<I", m, off + o)[0] for o in (20, 56))
            # --dump-acpi describes a host whose KVM gives vCPUs a PMU; no EL2.
            check(perf == PPI_PMU, "MADT: GICC uid %d performance GSIV %d" % (uid, perf))
            check(maint == 0, "MADT: GICC uid %d VGIC maintenance GSIV %d" % (uid, maint))
            cpus.append((uid, bool(flags & GICC_ENABLED)))
        elif typ == 0x0C:
            gicd += 1
            check(m[off + 20] == 3, "MADT: GICD not GICv3")
        elif typ == 0x0E:
            base, length = struct.unpack_from("<QI", m, off + 4)
            check(length > 0 and length % REDIST_STRIDE == 0, "MADT: GICR length %#x" % length)
            gicr.append((base, length))
        off += ln
    check(gicd == 1 and gicr, "MADT: want one GICD and GICRs, got %d/%d" % (gicd, len(gicr)))
    # One redistributor per GICC, in ranges that neither overlap nor touch
    # (the last frame of each range must be marked last).
    check(sum(ln for _, ln in gicr) == REDIST_STRIDE * len(cpus),
          "MADT: GICR ranges hold %d redistributors for %d GICCs" %
          (sum(ln for _, ln in gicr) // REDIST_STRIDE, len(cpus)))
    for i, (b, ln) in enumerate(gicr):
        for b2, ln2 in gicr[:i]:
            check(b + ln < b2 or b2 + ln2 < b, "MADT: GICR ranges %#x and %#x touch" % (b, b2))
    uids = [u for u, _ in cpus]
    check(cpus and len(set(uids)) == len(uids), "MADT: no GICC or duplicate UIDs")
    if boot is not None:
        n = sum(1 for _, e in cpus if e)
        check(n == boot, "MADT: %d enabled GICCs, expected %d" % (n, boot))
    s = t["SPCR"]
    check(s[36] == 3 and s[52] == 8 and s[58] == 7, "SPCR: not PL011/GIC/115200")
    return cpus


# ---- 2. iasl -------------------------------------------------------------------

def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    return p.returncode, p.stdout


BAD = re.compile(r"\b(Warning|Error|Remark)\b")


def check_iasl(tmp, iasl):
    for sig in SIGS[1:]:
        rc, out = run([iasl, "-d", sig + ".dat"], tmp)
        check(rc == 0 and not BAD.search(out), "iasl -d %s.dat:\n%s" % (sig, out))
        check(os.path.exists(os.path.join(tmp, sig + ".dsl")), "iasl -d %s: no .dsl" % sig)
        rt = os.path.join(tmp, "rt")
        os.makedirs(rt, exist_ok=True)
        shutil.copy(os.path.join(tmp, sig + ".dsl"), rt)
        rc, out = run([iasl, "-p", sig + "_rt", sig + ".dsl"], rt)
        ok = re.search(r"\b0 Errors, 0 Warnings, 0 Remarks", out)
        check(rc == 0 and ok, "iasl (recompile) %s.dsl:\n%s" % (sig, out))


# ---- 3. acpiexec -----------------------------------------------------------------

def acpiexec(tmp, exe, cmds, extra):
    """Run cmds in batches under the -b line limit; one (cmd, output) per cmd.
    Batches are separate processes, so state does not carry across them."""
    results, batch = [], []

    def flush():
        if not batch:
            return
        files = ["DSDT.dat", "FACP.dat", "APIC.dat", "GTDT.dat", "SPCR.dat", "harness.aml"]
        # Unbuffered, so warnings (stderr) stay next to their command.
        pre = ["stdbuf", "-o0"] if shutil.which("stdbuf") else []
        rc, out = run(pre + [exe, "-b", ";".join(batch)] + files + extra, tmp)
        check(rc == 0, "acpiexec failed (%d):\n%s" % (rc, out))
        head, _, _ = out.partition("\nEvaluating ")
        check(not re.search(r"Error|Warning|AE_", head), "acpiexec load:\n%s" % head)
        parts = out.split("\nEvaluating ")[1:]
        check(len(parts) == len(batch), "acpiexec ran %d of %d commands:\n%s"
              % (len(parts), len(batch), out))
        results.extend(zip(batch, parts))
        del batch[:]

    for c in cmds:
        if batch and len(";".join(batch + [c])) > BATCH_MAX:
            flush()
        batch.append(c)
    flush()
    return results


def integers(res):
    cmd, text = res
    check(not re.search(r"failed|AE_|Warning|Error", text), "%s failed:\n%s" % (cmd, text))
    vals = [int(v, 16) for v in re.findall(r"\[Integer\] = ([0-9A-F]+)", text)]
    check(vals, "%s: no integer result:\n%s" % (cmd, text))
    return vals


def notifies(res):
    return re.findall(r"Notify on \[(\w+)\] \S+ Value (0x[0-9A-F]+)", res[1])


# One method per CPU running its checks in AML, so a single acpiexec command
# covers a CPU (each acpiexec run costs about a second).
CPU_CHECK = """
    External (%(p)s._UID, IntObj)
    External (%(p)s._STA, MethodObj)
    External (%(p)s._EJ0, MethodObj)
    External (%(p)s._OST, MethodObj)
    Method (\\T%(n)s, 0, Serialized)
    {
        Local7 = Package (0x0B) {}
        Local7 [0x00] = %(p)s._UID
        \\_SB.CPUS.CSTS = 0
        Local7 [0x01] = %(p)s._STA ()
        \\_SB.CPUS.CSTS = %(enabled)d
        Local7 [0x02] = %(p)s._STA ()
        \\_SB.CPUS.CSTS = %(events)d
        Local7 [0x03] = %(p)s._STA ()
        Local0 = CondRefOf (%(p)s._EJ0)
        Local7 [0x04] = Local0
        \\_SB.CPUS.CCMD = 0
        If (Local0)
        {
            %(p)s._EJ0 (One)
        }
        Local7 [0x05] = \\_SB.CPUS.CCMD
        Local7 [0x06] = \\_SB.CPUS.CSEL
        \\_SB.CPUS.CSEL = Ones
        %(p)s._OST (0x0103, 0x80, Buffer () {0})
        Local7 [0x07] = \\_SB.CPUS.COEV
        Local7 [0x08] = \\_SB.CPUS.COSS
        Local7 [0x09] = \\_SB.CPUS.CSEL
        Local7 [0x0A] = 0x600D
        Return (Local7)
    }
"""


def write_cpu_checks(tmp, iasl, uids):
    body = "".join(CPU_CHECK % {"p": cpu_path(u), "n": "%03X" % u, "enabled": ST_ENABLED,
                                "events": ST_INSERT | ST_REMOVE} for u in uids)
    asl = ('DefinitionBlock ("", "SSDT", 2, "VMMVMM", "VMMCPUT", 1)\n{\n'
           '    External (\\_SB.CPUS.CSTS, FieldUnitObj)\n'
           '    External (\\_SB.CPUS.CCMD, FieldUnitObj)\n'
           '    External (\\_SB.CPUS.CSEL, FieldUnitObj)\n'
           '    External (\\_SB.CPUS.COEV, FieldUnitObj)\n'
           '    External (\\_SB.CPUS.COSS, FieldUnitObj)\n%s}\n' % body)
    with open(os.path.join(tmp, "cpucheck.asl"), "w") as fh:
        fh.write(asl)
    rc, out = run([iasl, "-p", "cpucheck", "cpucheck.asl"], tmp)
    check(rc == 0, "cpucheck.asl:\n%s" % out)


def check_acpiexec(tmp, exe, iasl, cpus):
    uids = [u for u, _ in cpus]
    write_cpu_checks(tmp, iasl, uids)
    res = acpiexec(tmp, exe, ["ex \\T%03X" % u for u in uids], ["cpucheck.aml"])
    for u, r in zip(uids, res):
        name = cpu_path(u)
        v = integers(r)
        check(len(v) == 11 and v[10] == 0x600D, "%s: checks did not complete: %s" % (name, r))
        check(v[0] == u, "%s._UID = %d, MADT UID %d" % (name, v[0], u))
        check(v[1] == STA_DISABLED, "%s._STA = %#x when disabled, want 0xD" % (name, v[1]))
        check(v[2] == STA_ENABLED, "%s._STA = %#x when enabled, want 0xF" % (name, v[2]))
        check(v[3] == STA_DISABLED, "%s._STA = %#x with only events, want 0xD" % (name, v[3]))
        if u == 0:
            check(v[4] == 0, "%s has _EJ0: the boot CPU must not" % name)
        else:
            check(v[4] != 0, "%s has no _EJ0" % name)
            check(v[5] == CMD_EJECT and v[6] == u,
                  "%s._EJ0 wrote command %d for CPU %d" % (name, v[5], v[6]))
        check(v[7:10] == [0x103, 0x80, u], "%s._OST reported (event, status, cpu) %s"
              % (name, v[7:10]))

    # The scan takes events from NEXT_EVENT only. In acpiexec's RAM it keeps
    # naming the same CPU, so the scan notifies that CPU once per round, for
    # its bound of one round per possible CPU, and then stops.
    last = uids[-1]
    rounds = max(uids) + 1
    scan = ["ex \\TNXT %d" % last, "ex \\TSTS %d" % ST_INSERT, "ex \\TGEV 1",
            "ex \\_SB.GED0._EVT 0", "ex \\_SB.CPUS.CCMD", "ex \\_SB.CPUS.CSEL",
            "ex \\TSTS %d" % ST_REMOVE, "ex \\TGEV 1", "ex \\_SB.GED0._EVT 0",
            "ex \\_SB.CPUS.CCMD",
            "ex \\TNXT %d" % NO_EVENT, "ex \\TSTS %d" % (ST_INSERT | ST_REMOVE),
            "ex \\TGEV 1", "ex \\_SB.GED0._EVT 0",
            "ex \\TNXT %d" % last, "ex \\TGEV 0", "ex \\_SB.GED0._EVT 0"]
    # acpiexec runs Notify handlers on threads of their own, so under load a
    # notification may print after the next command's header: count them over
    # the whole run (insert and remove notify different values), and run the
    # scan again if a slow handler had not printed before acpiexec exited.
    for attempt in range(3):
        r = acpiexec(tmp, exe, scan, [])
        check(len(r) == len(scan) and len(";".join(scan)) <= BATCH_MAX, "scan split across runs")
        got = [n for res in r for n in notifies(res)]
        want = [(cpu_path(last)[-4:], "0x00")] * rounds + [(cpu_path(last)[-4:], "0x03")] * rounds
        if sorted(got) == sorted(want):
            break
        check(len(got) < len(want) and attempt < 2,
              "scans: want %d Bus Checks and %d Eject Requests on C%03X and nothing else "
              "(with NEXT_EVENT empty or without the CPU bit), got %s" % (rounds, rounds, last, got))
    check(integers(r[4]) == [CMD_CLEAR_INSERT], "insert scan did not clear INSERT")
    check(integers(r[5]) == [last], "the scan changed the selection NEXT_EVENT made")
    check(integers(r[9]) == [CMD_CLEAR_REMOVE], "remove scan did not clear REMOVE")


# ---- driver ----------------------------------------------------------------------

def dump(args, tmp):
    cmd = [args.vmm, "--dump-acpi", tmp, "--cpus", args.cpus]
    if args.rng:
        cmd += ["--rng", args.rng]
    for n in args.net or ():
        cmd += ["--net", n]
    if args.fs:
        cmd += ["--memory", "size=256M,shared=on"]
    for f in args.fs or ():
        cmd += ["--fs", f]
    rc, out = run(cmd, tmp)
    check(rc == 0, "%s failed:\n%s" % (" ".join(cmd), out))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", nargs="?")
    ap.add_argument("--boot", type=int, help="expected number of enabled GICCs")
    ap.add_argument("--cpus", help="boot=N,max=M, with --vmm")
    ap.add_argument("--vmm")
    ap.add_argument("--rng", help="--rng value for vmm, with --vmm")
    ap.add_argument("--net", action="append", help="--net value for vmm, with --vmm (repeatable)")
    ap.add_argument("--fs", action="append",
                    help="--fs value for vmm, with --vmm (repeatable; its devices come last, edge-triggered)")
    ap.add_argument("--virtio", type=int, help="expected number of virtio-mmio devices (LNRO0005)")
    ap.add_argument("--harness", default=os.path.join(HERE, "harness.asl"))
    ap.add_argument("--iasl", default="iasl")
    ap.add_argument("--acpiexec", default="acpiexec")
    args = ap.parse_args()
    if bool(args.dir) == bool(args.vmm) or (not args.dir and not args.cpus):
        ap.error("give DIR, or --vmm with --cpus")
    # Commands run inside a temporary directory: make given paths absolute.
    for attr in ("dir", "vmm", "harness"):
        v = getattr(args, attr)
        if v and (attr in ("dir", "harness") or os.sep in v):
            setattr(args, attr, os.path.abspath(v))
    for tool in (args.iasl, args.acpiexec):
        if not shutil.which(tool):
            print("SKIP: %s not found (install acpica-tools)" % tool)
            return 77

    tmp = tempfile.mkdtemp(prefix="acpi-check-")
    try:
        boot = args.boot
        if args.dir:
            src = args.dir
        else:
            m = re.fullmatch(r"boot=(\d+),max=(\d+)", args.cpus)
            check(m, "--cpus: want boot=N,max=M")
            boot = int(m.group(1)) if boot is None else boot
            src = os.path.join(tmp, "dump")
            os.mkdir(src)
            dump(args, src)
        tables = {}
        for sig in SIGS:
            path = os.path.join(src, sig + ".dat")
            check(os.path.exists(path), "missing %s" % path)
            with open(path, "rb") as fh:
                tables[sig] = fh.read()
            shutil.copy(path, tmp)
        cpus = check_binary(tables, boot)
        check_iasl(tmp, args.iasl)
        rc, out = run([args.iasl, "-p", "harness", args.harness], tmp)
        check(rc == 0, "harness.asl:\n%s" % out)
        check_acpiexec(tmp, args.acpiexec, args.iasl, cpus)
        if args.virtio is not None:
            nfs = len(args.fs or ())
            err = check_virtio.check(tmp, args.acpiexec, args.virtio,
                                     ["DSDT.dat", "FACP.dat", "APIC.dat", "GTDT.dat", "SPCR.dat"],
                                     edge=range(args.virtio - nfs, args.virtio))
            check(err is None, err)
        print("OK: %d vCPUs (%d enabled), tables %s" %
              (len(cpus), sum(1 for _, e in cpus if e), " ".join(SIGS)))
        return 0
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
