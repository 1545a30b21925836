"""Test case description and run result."""
import shlex
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Sequence, Union

# Arguments every run gets before the case's own (placeholders are filled in
# by the runner: {kernel} {initrd} {cmdline} {socket}).
DEFAULT_BASE_ARGS = ("--kernel", "{kernel}", "--initrd", "{initrd}",
                     "--cmdline", "{cmdline}", "--console", "stdio")
# Nested guest kernel command line. No console=: the VMM's device tree
# (stdout-path) or ACPI SPCR names the console. `quiet` keeps the emulated
# serial short; the full log stays in dmesg (Case.dmesg). panic=-1: a guest
# panic becomes a reset at once instead of a hang until the timeout.
DEFAULT_CMDLINE = "quiet panic=-1"

Args = Union[str, Sequence[str]]


def split_args(a: Args) -> list:
    return shlex.split(a) if isinstance(a, str) else list(a)


@dataclass
class Run:
    """A run entry (in Case.runs) that is not a plain vmm invocation: another
    L1 program (argv prefix), with or without Case.base_args. Used by
    bench_vs_qemu.py to run QEMU in the same L1 boot as vmm."""
    args: Args = ()
    program: Args = ("/bin/vmm",)
    base_args: bool = True               # prepend Case.base_args to args


class CheckFailed(Exception):
    pass


# A check takes the Result and raises CheckFailed (or AssertionError) or
# returns a failure string; None/True means it passed.
Check = Callable[["Result"], Optional[str]]


@dataclass
class Case:
    """One emulated boot. A single vmm run by default; `runs` gives several
    vmm invocations run one after the other inside the same L1 boot."""
    name: str
    vmm_args: Args = ()
    checks: Sequence[Check] = ()
    guest_script: Optional[str] = None   # sourced by the L2 /init (l2-lib.sh helpers)
    l1_script: Optional[str] = None      # sourced in L1 while vmm runs (l1-lib.sh helpers)
    runs: Optional[Sequence[Union[Args, Run]]] = None
    cmdline: str = DEFAULT_CMDLINE       # L2 kernel command line
    base_args: Args = DEFAULT_BASE_ARGS
    dmesg: Optional[str] = None          # None, "all" or an ERE: dump matching L2 dmesg lines
    expect_exit: Optional[int] = 0       # vmm exit status of every run (None: not checked)
    boots: bool = True                   # the L2 guest is expected to reach userspace and power off
    tap: Optional[bool] = None           # copy vmm output to L1 /run/vmm.log (default: with l1_script)
    needs_vmmctl: bool = False
    timeout: float = 240.0               # hard limit for the whole emulated machine
    vmm_timeout: float = 150.0           # per vmm run, enforced inside L1
    l1_files: Mapping[str, str] = field(default_factory=dict)  # L1 path -> host file or directory
    l2_files: Mapping[str, str] = field(default_factory=dict)  # L2 path -> host file or directory
    guest_modules: Sequence[str] = ()    # kernel modules (and their deps) packed into L2; e2e_load_modules
    l1_modules: Sequence[str] = ()       # kernel modules (and deps) L1's /init loads before the runs
    l1_tools: Sequence[str] = ()         # bed/guest/<name>.c, built static for aarch64, as L1 /bin/<name>
    rss_poll: Optional[float] = None     # seconds: poll each run's VmHWM in L1 (not with tap)
    description: str = ""

    def _runs(self) -> list:
        runs = self.runs if self.runs is not None else [self.vmm_args]
        return [r if isinstance(r, Run) else Run(r) for r in runs]

    def run_args(self) -> list:
        """List of argument lists, one per vmm run (placeholders unfilled)."""
        base = split_args(self.base_args)
        return [(base if r.base_args else []) + split_args(r.args) for r in self._runs()]

    def run_programs(self) -> list:
        """The L1 program (argv prefix) of each run: ["/bin/vmm"] unless a Run says otherwise."""
        return [split_args(r.program) for r in self._runs()]

    @property
    def tap_enabled(self) -> bool:
        return bool(self.l1_script) if self.tap is None else self.tap


@dataclass
class Event:
    t: float          # host seconds since qemu start
    key: str
    value: str        # "" for bare markers


@dataclass
class RunResult:
    """What one vmm invocation printed (lines between its start and exit)."""
    index: int
    t_start: Optional[float] = None
    lines: list = field(default_factory=list)       # (t, text)
    guest: dict = field(default_factory=dict)       # key -> [Event] ("E2E ...")
    l1: dict = field(default_factory=dict)          # key -> [Event] ("E2E-L1 ...")
    dmesg: list = field(default_factory=list)       # "E2E-DMESG ..." lines

    def g(self, key, default=None):
        """Last value the guest printed for key."""
        ev = self.guest.get(key)
        return ev[-1].value if ev else default

    def l(self, key, default=None):
        ev = self.l1.get(key)
        return ev[-1].value if ev else default

    @property
    def hwm_kib(self) -> Optional[int]:
        """Peak RSS (VmHWM, KiB) of the run's program as last polled in L1 (Case.rss_poll)."""
        v = self.l("vmm-hwm-kb")
        return int(v) if v and v.isdigit() and int(v) > 0 else None

    @property
    def vmm_exit(self) -> Optional[int]:
        v = self.l("vmm-exit")
        try:
            return int(v) if v is not None else None
        except ValueError:
            return None

    @property
    def t_userspace(self) -> Optional[float]:
        """Seconds from the vmm start marker to the guest's first userspace line."""
        ev = self.guest.get("userspace")
        if ev and self.t_start is not None:
            return ev[0].t - self.t_start
        return None


@dataclass
class Result:
    case: Case
    lines: list = field(default_factory=list)   # (t, text) of the whole serial log
    l1: dict = field(default_factory=dict)      # E2E-L1 events outside any run
    runs: list = field(default_factory=list)    # [RunResult]
    qemu_rc: Optional[int] = None
    timed_out: bool = False
    aborted: str = ""                           # why the harness stopped qemu early
    wall: float = 0.0
    failures: list = field(default_factory=list)
    log_path: Optional[str] = None

    @property
    def run(self) -> RunResult:
        """The first (usually only) vmm run; an empty one if none started."""
        return self.runs[0] if self.runs else RunResult(index=0)

    @property
    def ok(self) -> bool:
        return not self.failures

    def text(self) -> str:
        return "\n".join(t for _, t in self.lines)

    def format_log(self) -> str:
        return "\n".join("[%8.3f] %s" % (t, s) for t, s in self.lines)
