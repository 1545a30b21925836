"""Run the emulated arm64 machine (L1) once, under a global lock.

- One emulated machine at a time per checkout: fcntl.flock on
  .cache/e2e/qemu.lock, held for the whole qemu lifetime (blocking, with a
  note when another process holds it).
- Every serial line is stamped with host seconds since qemu was started.
- A hard timeout kills qemu's process group; so do exceptions, Ctrl-C and
  SIGTERM. A guest/host kernel panic stops the machine a few seconds later.
"""
import fcntl
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

QEMU_MACHINE = ["-M", "virt,virtualization=on,gic-version=3", "-cpu", "max",
                "-smp", "2", "-m", "2G", "-accel", "tcg,thread=multi"]
L1_APPEND = "console=ttyAMA0 quiet panic=-1"
# After one of these, give the log PANIC_GRACE s more, then stop the machine.
FATAL = re.compile(r"Kernel panic - not syncing|E2E poweroff-failed")
PANIC_GRACE = 4.0


@dataclass
class QemuOutcome:
    lines: list = field(default_factory=list)   # (t, text)
    rc: int = None
    timed_out: bool = False
    aborted: str = ""
    wall: float = 0.0


class Lock:
    def __init__(self, path, wait_max=3600.0, note=print):
        self.path, self.wait_max, self.note = path, wait_max, note
        self.fd = None

    def __enter__(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        t0, noted = time.monotonic(), False
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not noted:
                    holder = os.pread(self.fd, 64, 0).decode(errors="replace").strip()
                    who = f"pid {holder}" if holder.isdigit() else "another process, e.g. flock(1)"
                    self.note(f"e2e: waiting for {self.path} (held by {who})")
                    noted = True
                if time.monotonic() - t0 > self.wait_max:
                    os.close(self.fd)
                    raise TimeoutError(f"could not get {self.path} in {self.wait_max:.0f}s")
                time.sleep(0.5)
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)
        return self

    def __exit__(self, *exc):
        try:
            os.ftruncate(self.fd, 0)
        finally:
            os.close(self.fd)   # releases the flock


class _Sigterm(BaseException):
    pass


def _raise_sigterm(signum, frame):
    raise _Sigterm()


def qemu_cmd(qemu, kernel, initrd, append=L1_APPEND):
    return [qemu, *QEMU_MACHINE, "-kernel", str(kernel), "-initrd", str(initrd),
            "-append", append, "-nographic", "-serial", "stdio", "-monitor", "none", "-nic", "none",
            "-no-reboot"]


def run(cmd, timeout, lock_path, log_file=None, echo=False, note=print) -> QemuOutcome:
    """Run cmd (qemu) to completion or timeout; return its stamped output."""
    out = QemuOutcome()
    old_term = None
    if threading.current_thread() is threading.main_thread():
        old_term = signal.signal(signal.SIGTERM, _raise_sigterm)
    try:
        with Lock(lock_path, note=note):
            _run_locked(cmd, timeout, out, log_file, echo)
    except _Sigterm:
        raise KeyboardInterrupt("SIGTERM")
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    return out


def _run_locked(cmd, timeout, out, log_file, echo):
    t0 = time.monotonic()
    fatal_at = [None]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)

    def reader():
        for raw in proc.stdout:
            t = time.monotonic() - t0
            text = raw.decode("utf-8", "replace").rstrip("\r\n").replace("\r", "")
            out.lines.append((t, text))
            stamped = "[%8.3f] %s\n" % (t, text)
            if log_file:
                log_file.write(stamped)
                log_file.flush()
            if echo:
                sys.stdout.write(stamped)
                sys.stdout.flush()
            if fatal_at[0] is None and FATAL.search(text):
                fatal_at[0] = t
                out.aborted = text.strip()

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    try:
        while True:
            try:
                out.rc = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic() - t0
            if now > timeout:
                out.timed_out = True
                break
            if fatal_at[0] is not None and now > fatal_at[0] + PANIC_GRACE:
                break
    finally:
        if proc.poll() is None:
            _kill(proc)
        th.join(timeout=5)
        proc.stdout.close()
        out.wall = time.monotonic() - t0
    return out


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()
