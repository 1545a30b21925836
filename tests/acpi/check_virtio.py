"""The virtio-mmio devices of a dumped DSDT (used by check_tables.py --virtio N).

Each transport is \\_SB.VRnn: _HID "LNRO0005" (what Linux's virtio_mmio driver
matches), _UID nn, _CCA 1, and a _CRS with its 0x200-byte window at
0x0A000000 + nn * 0x200 and its active-high GIC interrupt INTID 48 + nn
(SPI 16 + nn): level-triggered, or edge-triggered for the devices listed as
edge (virtio-fs, whose vhost-user backend pulses the line through an irqfd). Checked twice: in the iasl disassembly and by
evaluating the objects with acpiexec."""
import re
import struct
import subprocess

BASE, STRIDE, INTID0 = 0x0A000000, 0x200, 48


class VirtioFailure(Exception):
    pass


def _check(cond, msg):
    if not cond:
        raise VirtioFailure(msg)


def check_dsl(dsl, n, edge):
    hids = re.findall(r'Device \((VR[0-9A-F]{2})\)\s*\{\s*Name \(_HID, "LNRO0005"\)', dsl)
    _check(hids == ["VR%02X" % i for i in range(n)],
           "DSDT: want LNRO0005 devices VR00..VR%02X, got %s" % (n - 1, hids))
    for i in range(n):
        body = dsl.split("Device (VR%02X)" % i, 1)[1].split("Device (", 1)[0]
        mem = re.search(r"Memory32Fixed \(ReadWrite,\s*0x([0-9A-F]{8}),[^\n]*\s*0x([0-9A-F]{8}),", body)
        _check(mem and int(mem.group(1), 16) == BASE + i * STRIDE and int(mem.group(2), 16) == STRIDE,
               "VR%02X: Memory32Fixed %s" % (i, mem.groups() if mem else None))
        trig = "Edge" if i in edge else "Level"
        irq = re.search(r"Interrupt \(ResourceConsumer, %s, ActiveHigh, Exclusive, ,, \)\s*\{\s*"
                        r"0x([0-9A-F]{8}),\s*\}" % trig, body)
        _check(irq and int(irq.group(1), 16) == INTID0 + i,
               "VR%02X: want %s-triggered, active-high interrupt %d" % (i, "an edge" if i in edge else "a level", INTID0 + i))


def _buffer(text):
    return bytes(int(b, 16) for line in re.findall(r"^\s+[0-9A-F]{4}: ((?:[0-9A-F]{2} )+)", text, re.M)
                 for b in line.split())


def check_acpiexec(tmp, exe, n, files, edge):
    if n == 0:
        return
    cmds = []
    for i in range(n):
        p = "\\_SB.VR%02X" % i
        cmds += ["ex %s._HID" % p, "ex %s._UID" % p, "ex %s._CCA" % p, "ex %s._CRS" % p]
    p = subprocess.run([exe, "-b", ";".join(cmds)] + files, cwd=tmp, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    _check(p.returncode == 0, "acpiexec failed:\n%s" % p.stdout)
    parts = p.stdout.split("\nEvaluating ")[1:]
    _check(len(parts) == len(cmds), "acpiexec ran %d of %d commands:\n%s" % (len(parts), len(cmds), p.stdout))
    for i in range(n):
        hid, uid, cca, crs = parts[4 * i:4 * i + 4]
        _check('[String] Length 08 = "LNRO0005"' in hid, "VR%02X._HID:\n%s" % (i, hid))
        _check(re.search(r"\[Integer\] = 0*%X\b" % i, uid), "VR%02X._UID:\n%s" % (i, uid))
        _check(re.search(r"\[Integer\] = 0*1\b", cca), "VR%02X._CCA:\n%s" % (i, cca))
        b = _buffer(crs)
        # Memory32Fixed: 0x86, length 9, read-write, base, length.
        _check(len(b) >= 12 and b[0] == 0x86 and b[3] == 1 and
               struct.unpack_from("<II", b, 4) == (BASE + i * STRIDE, STRIDE),
               "VR%02X._CRS memory descriptor: %s" % (i, b.hex()))
        # Extended Interrupt: 0x89, length 6, flags consumer (bit 0) | edge (bit 1) with
        # active-high and exclusive (bits 2, 3 clear), 1 interrupt.
        flags = 0x03 if i in edge else 0x01
        _check(len(b) >= 21 and b[12] == 0x89 and b[15] == flags and b[16] == 1 and
               struct.unpack_from("<I", b, 17)[0] == INTID0 + i,
               "VR%02X._CRS interrupt descriptor: %s" % (i, b.hex()))


def check(tmp, exe, n, files, edge=()):
    """n devices VR00.., those whose index is in edge edge-triggered."""
    with open("%s/DSDT.dsl" % tmp) as fh:
        dsl = fh.read()
    try:
        check_dsl(dsl, n, set(edge))
        check_acpiexec(tmp, exe, n, files, set(edge))
    except VirtioFailure as e:
        return str(e)
    return None
