"""Glue: build images for a case, run the machine, parse, check."""
import os
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from . import images, qemu, serial
from .case import Case, CheckFailed, Result

TOP = Path(__file__).resolve().parents[3]     # the repository root


@dataclass
class BedConfig:
    vmm: Path
    vmmctl: Optional[Path] = None
    kernel: Path = TOP / ".cache/kernel/Image"
    busybox: Path = TOP / ".cache/busybox/busybox"
    cache: Path = TOP / ".cache/e2e"
    qemu: str = "qemu-system-aarch64"
    keep_logs: Optional[Path] = None
    echo: bool = False          # stream the stamped serial log while running

    @property
    def lock(self) -> Path:
        return self.cache / "qemu.lock"


def elf_problem(path) -> Optional[str]:
    """Why `path` cannot run in L1 (an aarch64 static executable), or None."""
    try:
        with open(path, "rb") as f:
            hdr = f.read(64)
            if len(hdr) < 64 or hdr[:4] != b"\x7fELF" or hdr[4] != 2 or hdr[5] != 1:
                return f"{path}: not a 64-bit little-endian ELF file"
            machine, = struct.unpack_from("<H", hdr, 18)
            if machine != 183:
                return f"{path}: ELF machine {machine}, not aarch64 (183); use the cross build"
            phoff, = struct.unpack_from("<Q", hdr, 32)
            phentsize, phnum = struct.unpack_from("<HH", hdr, 54)
            f.seek(phoff)
            ph = f.read(phentsize * phnum)
            for i in range(phnum):
                if struct.unpack_from("<I", ph, i * phentsize)[0] == 3:   # PT_INTERP
                    return f"{path}: dynamically linked; L1 has no libc (link it statically)"
    except OSError as e:
        return f"{path}: {e.strerror}"
    if not os.access(path, os.X_OK):
        return f"{path}: not executable"
    return None


class Bed:
    def __init__(self, cfg: BedConfig, note=print):
        self.cfg = cfg
        self.note = note

    def preflight(self, case: Case) -> Optional[str]:
        c = self.cfg
        for what, p in (("kernel", c.kernel), ("busybox", c.busybox)):
            if not Path(p).is_file():
                return f"{what} {p} missing: run scripts/setup.sh"
        bad = elf_problem(c.vmm)
        if bad:
            return bad
        if c.vmmctl:
            bad = elf_problem(c.vmmctl)
            if bad:
                return bad
        elif case.needs_vmmctl:
            return "case needs vmmctl: pass --vmmctl (or build it next to vmm)"
        return None

    def run(self, case: Case) -> Result:
        res = Result(case=case)
        problem = self.preflight(case)
        if problem:
            res.failures.append(problem)
            return res
        l2 = images.build_l2(self.cfg, case)
        l1 = images.build_l1(self.cfg, case, l2)
        # Other checkouts share the cache and prune old images while this
        # run waits for the machine lock: run from a pinned hard link.
        pin = l1.with_name(f".pin-{os.getpid()}-{l1.name}")
        pin.unlink(missing_ok=True)
        os.link(l1, pin)
        try:
            return self._run_pinned(case, res, pin)
        finally:
            pin.unlink(missing_ok=True)

    def _run_pinned(self, case: Case, res: Result, l1: Path) -> Result:
        cmd = qemu.qemu_cmd(self.cfg.qemu, self.cfg.kernel, l1)
        with tempfile.TemporaryDirectory(prefix="vmm-e2e-") as tmp:
            log_path = Path(tmp) / f"{case.name}.log"
            with open(log_path, "w") as log:
                log.write(f"# case {case.name}\n# vmm runs: {images.vmm_argv(case)}\n"
                          f"# {' '.join(cmd)}\n")
                log.flush()
                out = qemu.run(cmd, case.timeout, str(self.cfg.lock), log_file=log,
                               echo=self.cfg.echo, note=self.note)
                log.write(f"# qemu rc={out.rc} timed_out={out.timed_out} wall={out.wall:.1f}s\n")
            res.lines, res.qemu_rc, res.timed_out = out.lines, out.rc, out.timed_out
            res.aborted, res.wall = out.aborted, out.wall
            serial.parse_into(res)
            self.check(res)
            if self.cfg.keep_logs:
                dst = Path(self.cfg.keep_logs)
                dst.mkdir(parents=True, exist_ok=True)
                stamp = time.strftime("%Y%m%d-%H%M%S")
                keep = dst / f"{case.name}.{stamp}.log"
                keep.write_bytes(log_path.read_bytes())
                res.log_path = str(keep)
        return res

    def check(self, res: Result):
        case = res.case
        f = res.failures
        if res.timed_out:
            f.append(f"timed out after {case.timeout:.0f}s (emulated machine killed)")
        if res.aborted:
            f.append(f"stopped after fatal line: {res.aborted!r}")
        if "init" not in res.l1:
            f.append("L1 /init never ran (outer kernel did not boot?)")
            return
        if (res.l1.get("kvm") or [None])[-1] is None or res.l1["kvm"][-1].value != "yes":
            f.append("no /dev/kvm in L1")
        nruns = len(case.run_args())
        if len(res.runs) != nruns:
            f.append(f"{len(res.runs)} of {nruns} vmm runs started")
        for r in res.runs:
            if "vmm-exit" not in r.l1:
                f.append(f"run {r.index}: vmm did not exit")
            elif case.expect_exit is not None and r.vmm_exit != case.expect_exit:
                f.append(f"run {r.index}: vmm exit status {r.vmm_exit}, expected {case.expect_exit}")
            if case.boots:
                if "userspace" not in r.guest:
                    f.append(f"run {r.index}: guest never reached userspace")
                elif "done" not in r.guest:
                    f.append(f"run {r.index}: guest /init did not finish")
                if case.guest_script and r.g("guest-script-rc") not in (None, "0"):
                    f.append(f"run {r.index}: guest script exit status {r.g('guest-script-rc')}")
        if case.l1_script:
            rc = res.l1.get("script-rc")
            if not rc:
                f.append("L1 script did not finish")
            elif rc[-1].value != "0":
                f.append(f"L1 script exit status {rc[-1].value}")
        if "done" not in res.l1 and not res.timed_out:
            f.append("L1 /init did not finish")
        if f:
            return   # the case's own checks would only repeat the damage
        for chk in case.checks:
            try:
                msg = chk(res)
            except (CheckFailed, AssertionError) as e:
                msg = str(e) or type(e).__name__
            if msg and msg is not True:
                f.append(msg)
