"""Kata Containers' own cloud-hypervisor driver against vmm.

kata-clh-compat.arm64 is Kata's unmodified virtcontainers package (its clh
driver) with a step-by-step harness; it starts `/bin/vmm --api-socket ...`
itself, speaks cloud-hypervisor's REST dialect to it, and prints
`KATA-COMPAT <step> ok|skipped|FAIL ...` and a summary line. It runs in L1;
its nested guest is our L2 initramfs, whose init onlines CPUs as they
appear and prints `E2E state=<online>/<enabled>` on each change (through
the harness as `console| E2E ...`, KATA_DEBUG=1). With -v (Kata's debug
mode) vmm's log comes through the same console.

After each resize the harness waits for the number of threads named
`vcpuN` to equal the new count. vmm names a thread `vcpuN` from the guest's
first CPU_ON of that CPU until the guest ejects it, so each wait ends only
once the guest has started every added CPU or ejected every removed one:
each step's `vcpu threads now n` line and the guest's own `E2E
state=<online>/<enabled>` line for n CPUs, in step order before `stop`,
show that the guest's CPU count followed every resize. The one exception
is the end of the last grow: the harness stops the VM about 0.1 s after the
guest started its last CPU, too soon for the guest's userspace to see it
online, so there the guest's line shows the n CPUs enabled and vmm's log
the guest's CPU_ON of each added CPU.

The fs step: Kata starts virtiofsd itself (KATA_VIRTIOFSD, a wrapper that
runs the virtiofsd of scripts/fetch-virtiofsd.sh, packed into L1 as for
cases_fs) on its shared directory, and vmm attaches it from vm.create's
`fs` as virtio-fs. The L1 wrapper (bed/guest/l1-kata.sh) starts syslogd for
virtiofsd's --syslog and puts a file in the shared directory before the
harness starts; the guest mounts the share (tag kataShared), reads that file
back and writes one of its own, which L1 finds in the shared directory after
the harness ends.

The binary is not in the repository: it comes from the shared directory
next to the checkout (../shared/kata/, or KATA_COMPAT_DIR). Without it the
case is left out, with a note on stderr.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

from bed import Case
from bed.case import Run

try:    # virtio-vsock and its guest tool: the harness's agent step
    from cases_vsock import TOOL as VSOCK_TOOL, VSOCK_MODULES
except ImportError:
    VSOCK_TOOL, VSOCK_MODULES = None, ()

from cases_net import NET_MODULES
from cases_fs import FS_MODULES, VIRTIOFSD

GUEST_DIR = Path(__file__).resolve().parent / "bed" / "guest"
WORKDIR = "/tmp/kc"

HERE = Path(__file__).resolve().parent
TOP = HERE.parent.parent
COMPAT = "kata-clh-compat.arm64"
RESIZE = (3, 1, 4)
BOOT_VCPUS, MAX_VCPUS = 1, 4


def _shared_dirs():
    if os.environ.get("KATA_COMPAT_DIR"):
        yield Path(os.environ["KATA_COMPAT_DIR"])
    yield TOP.parent / "shared" / "kata"
    # A linked worktree: the shared directory sits next to the main checkout.
    try:
        common = subprocess.run(["git", "-C", str(TOP), "rev-parse", "--git-common-dir"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        if common:
            main = (TOP / common).resolve().parent
            yield main.parent / "shared" / "kata"
    except (OSError, subprocess.SubprocessError):
        pass


def find_compat():
    for d in _shared_dirs():
        if (d / COMPAT).is_file():
            return d / COMPAT
    return None


def _steps(res):
    """{step: [status, ...]} from the KATA-COMPAT lines, and the summary."""
    steps, summary = {}, None
    for _, text in res.run.lines:
        m = re.search(r"KATA-COMPAT (\S+) (ok|skipped|FAIL)\b", text)
        if m:
            steps.setdefault(m.group(1), []).append(m.group(2))
        m = re.search(r"KATA-COMPAT summary passed=(\d+) failed=(\d+) skipped=(\d+)", text)
        if m:
            summary = tuple(int(x) for x in m.groups())
    return steps, summary


def every_step_ok(res):
    steps, summary = _steps(res)
    if summary is None:
        return "no KATA-COMPAT summary line"
    if summary[1] != 0:
        failed = [s for s, v in steps.items() if "FAIL" in v]
        return f"compat harness: failed={summary[1]} ({', '.join(failed)})"
    need = ["create", "start", "fs", "net", "totalmem", "pause", "resume", "threads", "stop"]
    if VSOCK_TOOL is not None:
        need.append("agent")
    for step in need:
        if steps.get(step) != ["ok"]:
            return f"step {step}: {steps.get(step)}"
    if steps.get("resize") != ["ok"] * len(RESIZE):
        return f"resize steps: {steps.get('resize')}, expected {len(RESIZE)} x ok"
    # Only what vmm cannot do yet: memory hot-plug, and block (PCI hot-plug).
    for step in ("memory", "block"):
        if steps.get(step) != ["skipped"]:
            return f"step {step}: {steps.get(step)}, expected skipped"
    if summary[2] != 2:
        return f"compat harness: skipped={summary[2]}, expected 2 (memory, block)"
    return None


def share_round_trip(res):
    """Kata's shared directory through virtiofsd and vmm's virtio-fs: the
    guest read the file L1 put there, and the file the guest wrote is in L1."""
    r = res.run
    if r.g("fs-mount") != "0":
        return f"guest mount -t virtiofs kataShared: {r.g('fs-mount')!r}"
    if r.g("fs-kata-file") != "kata-compat ping":
        return f"the harness's kata-compat.txt read in the guest as {r.g('fs-kata-file')!r}"
    if not r.l("fs-l1-token") or r.g("fs-l1-file") != r.l("fs-l1-token"):
        return f"guest read {r.g('fs-l1-file')!r}, L1 wrote {r.l('fs-l1-token')!r}"
    if not r.g("fs-l2-token") or r.l("fs-l2-file") != r.g("fs-l2-token"):
        return f"L1 found {r.l('fs-l2-file')!r} in the share, the guest wrote {r.g('fs-l2-token')!r}"
    return None


def guest_follows_resize(res):
    """Each resize step is carried out by the guest, one CPU at a time.

    Growing: vmm enables the lowest disabled CPUs in order. Shrinking: the
    guest itself offlines and ejects each CPU above the target (vmm logs the
    eject, which only the guest's _EJ0 causes) as the step completes. The
    guest's own view is guest_count_follows."""
    lines = [t for _, t in res.run.lines]
    oks = [i for i, t in enumerate(lines) if re.search(r"KATA-COMPAT resize ok ResizeVCPUs\(", t)]
    if len(oks) != len(RESIZE):
        return f"{len(oks)} resize steps ok, expected {len(RESIZE)}"
    # vmm's log reaches the serial log through Kata's console, the harness's
    # step lines through its stdout: the two can cross by a few ms, so the
    # guest's ejects of a shrink are looked for up to the next step's line.
    prev, start = BOOT_VCPUS, 0
    nexts = oks[1:] + [len(lines) - 1]
    for n, end, nxt in zip(RESIZE, oks, nexts):
        window = lines[start:(nxt if n < prev else end) + 1]
        if n > prev:
            ids = [int(m.group(1)) for t in window
                   for m in [re.search(r"hotplug: vcpu(\d+) enabled", t)] if m]
            if ids != list(range(prev, n)):
                return f"resize {prev}->{n}: CPUs enabled {ids}, expected {list(range(prev, n))}"
        elif n < prev:
            ids = [int(m.group(1)) for t in window
                   for m in [re.search(r"hotplug: vcpu(\d+) ejected by the guest", t)] if m]
            if ids != list(range(prev - 1, n - 1, -1)):
                return (f"resize {prev}->{n}: the guest ejected {ids}, "
                        f"expected {list(range(prev - 1, n - 1, -1))}")
        prev, start = n, end + 1
    return None


def _cpus(n):
    """The guest's cpulist for CPUs 0..n-1, as /sys/devices/system/cpu prints it."""
    return "0" if n == 1 else f"0-{n - 1}"


# Console lines (through Kata's pty) and the harness's own lines reach the
# serial log by different paths and can cross by a few ms.
CROSS_S = 0.25


def _cpu_on_ids(lines):
    """vCPU ids the guest started (vmm's log: a successful PSCI CPU_ON)."""
    return {int(m.group(1), 16) & 0xf for _, x in lines
            for m in [re.search(r"PSCI CPU_ON\(mpidr 0x([0-9a-f]+)\) -> 0$", x)] if m}


def guest_count_follows(res):
    """Each resize step: the harness saw n vCPU threads (vmm names a thread
    vcpuN from the guest's CPU_ON of it to its eject), and the guest itself
    reported n CPUs online and enabled (`E2E state=0-(n-1)/0-(n-1)`), each
    step's state after the previous step's, all before the stop step.

    The harness stops the VM about 0.1 s after the guest started the last
    CPU of the last grow, before the guest's userspace can report it online:
    for that step the guest's line must show all n CPUs enabled, and vmm's
    log the guest's CPU_ON of each CPU the step added."""
    lines = res.run.lines
    oks = [(i, m) for i, (_, x) in enumerate(lines)
           for m in [re.search(r"KATA-COMPAT resize ok ResizeVCPUs\((\d+)\).*"
                               r"vcpu threads now (\d+) \(after ([\d.]+)s\)", x)] if m]
    if [int(m.group(1)) for _, m in oks] != list(RESIZE):
        return f"resize ok lines for {[int(m.group(1)) for _, m in oks]}, expected {list(RESIZE)}"
    for _, m in oks:
        if int(m.group(2)) != int(m.group(1)):
            return (f"ResizeVCPUs({m.group(1)}): vcpu threads now {m.group(2)} "
                    f"(after {m.group(3)} s), expected {m.group(1)}")
    stop = next((i for i, (_, x) in enumerate(lines) if re.search(r"KATA-COMPAT stop (ok|FAIL)", x)),
                None)
    if stop is None:
        return "no stop step"

    def state_at(pos, want):
        return next((i for i in range(pos, stop)
                     if lines[i][1].startswith("console| ") and lines[i][1].endswith(want)), None)

    # The state of step k: after the previous step's state line, before the
    # next step's ok line (or stop), give or take the crossing.
    pos, prev, prev_ok = 0, BOOT_VCPUS, 0
    ends = [i for i, _ in oks[1:]] + [stop]
    for k, (n, end) in enumerate(zip(RESIZE, ends)):
        want = f"E2E state={_cpus(n)}/{_cpus(n)}"
        hit = state_at(pos, want)
        if hit is None and k == len(RESIZE) - 1 and n > prev:
            want = f"E2E state=.../{_cpus(n)}"
            hit = next((i for i in range(pos, stop) if lines[i][1].startswith("console| E2E state=")
                        and lines[i][1].endswith(f"/{_cpus(n)}")), None)
            started = _cpu_on_ids(lines[prev_ok:stop])
            if hit is not None and not set(range(prev, n)) <= started:
                return (f"resize {prev}->{n}: the guest started vCPUs {sorted(started)}, "
                        f"expected {list(range(prev, n))}")
        if hit is None:
            return f"resize {prev}->{n}: the guest never printed '{want}' (after the previous step)"
        if lines[hit][0] > lines[end][0] + CROSS_S:
            return (f"resize {prev}->{n}: the guest printed '{want}' at {lines[hit][0]:.3f}, "
                    f"after the next step started ({lines[end][0]:.3f})")
        pos, prev, prev_ok = hit + 1, n, oks[k][0] + 1
    return None


def vmm_started_vm(res):
    text = "\n".join(t for _, t in res.run.lines)
    if not re.search(r"console\| vmm: .*started: 1 of 4 vCPUs enabled, 512 MiB, acpi boot", text):
        return "vmm's log (through Kata's console) does not show the VM created from vm.create"
    return None


# L2: mount Kata's share, read L1's and the harness's files, write one back.
FS_GUEST = """
    mkdir -p /mnt
    mount -t virtiofs kataShared /mnt
    e2e_kv fs-mount $?
    e2e_kv fs-kata-file "$(cat /mnt/kata-compat.txt)"
    e2e_kv fs-l1-file "$(cat /mnt/from-l1.txt)"
    t=$(cat /proc/sys/kernel/random/uuid)
    echo "$t" >/mnt/from-l2.txt && sync
    e2e_kv fs-l2-token "$t"
"""


# L2: online CPUs as they appear (e2e_onliner) and report the CPU state
# the moment it changes. The harness stops the VM about 0.1 s after the
# guest started the last CPU of the last grow (its vCPU thread is then named
# vcpuN), so while a change is under way (online differs from enabled) the
# state is sampled every 20 ms, without forking a subshell.
STATE_GUEST = """
e2e_onliner >/dev/null &
last=
while :; do
    read -r o </sys/devices/system/cpu/online
    read -r e </sys/devices/system/cpu/enabled
    if [ "$o/$e" != "$last" ]; then
        last="$o/$e"
        echo "E2E state=$last"
    fi
    if [ "$o" = "$e" ]; then usleep 100000; else usleep 20000; fi
done
"""


def _case(binary, agent):
    env = {
        "KATA_VMM": "/bin/vmm",
        "KATA_KERNEL": "/e2e/Image",
        "KATA_INITRD": "/e2e/l2.cpio",
        "KATA_BOOT_VCPUS": str(BOOT_VCPUS),
        "KATA_MAX_VCPUS": str(MAX_VCPUS),
        "KATA_MEM_MB": "512",
        "KATA_RESIZE": ",".join(str(n) for n in RESIZE),
        "KATA_DEBUG": "1",
        "KATA_KERNEL_PARAMS": "quiet",
        # Offlining a CPU takes seconds in a nested, emulated guest.
        "KATA_SETTLE_S": "120",
        "KATA_STEP_TIMEOUT_S": "300",
        # Short (socket paths) and kept: L1 looks into its shared directory.
        "KATA_WORKDIR": WORKDIR,
        # The net step: a tap (kata-compat0) whose fd goes over vm.add-net.
        "KATA_TAP": "create",
        # The fs step: Kata's defaults; an initramfs root cannot pivot_root.
        "KATA_VIRTIOFSD": "/e2e/kata-virtiofsd",
        "KATA_VIRTIOFSD_ARGS": "--thread-pool-size=1 --announce-submounts --sandbox=none",
        "TMPDIR": "/tmp",
    }
    # L1 needs tun for the tap; L2 loads virtio_net for the device it gets.
    modules = tuple(dict.fromkeys(NET_MODULES + FS_MODULES))
    l2_files = {}
    checks = [vmm_started_vm, every_step_ok, guest_follows_resize, guest_count_follows,
              share_round_trip]
    # The guest never powers off: Kata's StopVM ends vmm (vmm.shutdown).
    serve = ""
    if agent:
        # An echo server where Kata's agent listens; the agent step dials it
        # through the hybrid vsock socket, so the guest is up (and has used
        # the share) before resizing.
        env["KATA_AGENT_PORT"] = "1024"
        env["KATA_AGENT_WAIT_S"] = "600"
        modules = tuple(dict.fromkeys(modules + tuple(VSOCK_MODULES)))
        l2_files = {"/bin/vsock-tool": str(VSOCK_TOOL)}
        serve = "vsock-tool vlisten 1024 &"
    guest_script = "e2e_load_modules || exit 1\n" + FS_GUEST + serve + STATE_GUEST
    prog = ["/bin/sh", "/e2e/l1-kata.sh", WORKDIR, "env"] + [f"{k}={v}" for k, v in env.items()] + [
        "/kata/" + COMPAT, "-test.run", "TestKataClhCompat", "-test.v"]
    return Case(
        "kata_clh_compat",
        runs=[Run(args=(), program=prog, base_args=False)],
        l1_files={"/kata/" + COMPAT: str(binary), "/opt/virtiofsd": str(VIRTIOFSD),
                  "/e2e/l1-kata.sh": str(GUEST_DIR / "l1-kata.sh"),
                  "/e2e/kata-virtiofsd": str(GUEST_DIR / "kata-virtiofsd.sh")},
        l1_modules=("tun",),
        guest_modules=modules,
        l2_files=l2_files,
        guest_script=guest_script,
        boots=False,
        expect_exit=0,
        timeout=1500.0,
        vmm_timeout=1300.0,
        checks=checks,
        description="Kata's unmodified clh driver: create, fs, net, boot, resize 3,1,4, stop")


_bin = find_compat()
if _bin:
    CASES = [_case(_bin, agent=VSOCK_TOOL is not None)]
else:
    CASES = []
    print(f"cases_kata: kata_clh_compat skipped: {COMPAT} not found in ../shared/kata "
          "next to the checkout (set KATA_COMPAT_DIR)", file=sys.stderr)
