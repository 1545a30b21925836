"""virtio-vsock with the hybrid vsock host side, both boot modes. L2 loads
Debian's vsock modules and runs vsock-tool (tests/e2e/tools/vsock_tool.c,
cross-built into build-arm64) as an AF_VSOCK echo server; L1 plays Kata's
dialer on vmm's unix socket with the same tool, and listens on PATH_2000
for the guest's own connection."""
import re
from pathlib import Path

from bed import Case
from bed.checks import guest, l1, log_has, log_lacks, vmm_exit

TOP = Path(__file__).resolve().parents[2]
TOOL = TOP / "build-arm64/tests/e2e/tools/vsock-tool"
SOCK = "/run/vsock.sock"
VSOCK_MODULES = ("virtio_mmio", "vmw_vsock_virtio_transport")   # pulls in vsock and the common part
VSOCK_ARGS = f"--vsock cid=3,socket={SOCK}"
TOOL_FILES = {"/bin/vsock-tool": str(TOOL)}

# Guest, once its modules are loaded: wait for the driver, report the CID,
# start the echo server on 1024 (shared with cases_channels).
VSOCK_UP = '''
    n=100
    while [ "$n" -gt 0 ] && ! ls /sys/bus/virtio/drivers/vmw_vsock_virtio_transport 2>/dev/null | grep -q virtio; do
        usleep 100000; n=$((n - 1))
    done
    e2e_kv cid "$(vsock-tool cid)"
    vsock-tool vlisten 1024 &
'''
# Guest: drivers, the echo server on 1024, a connection of its own to host
# port 2000 (retried until L1's listener is up), then wait for L1 to finish.
GUEST_SETUP = '''
    e2e_load_modules || exit 1
''' + VSOCK_UP
GUEST_SCRIPT = GUEST_SETUP + '''
    n=50
    until g2h=$(vsock-tool vconnect 2 2000 hello-from-guest); do
        n=$((n - 1)); [ "$n" -gt 0 ] || break
        usleep 200000
    done
    e2e_kv g2h "$g2h"
    echo "E2E vsock-ready"
    e2e_kv l1-says "$(vsock-tool vwait 1099)"
'''

L1_SCRIPT = f'''
    vsock-tool ulisten {SOCK}_2000 &
    e2e_wait_guest "E2E vsock-ready" 120 || exit 1
    echo "E2E-L1 echo=$(vsock-tool hconnect {SOCK} 1024 hello-from-l1)"
    echo "E2E-L1 multi=$(vsock-tool hmulti {SOCK} 1024 8)"
    echo "E2E-L1 nolisten=$(vsock-tool hconnect {SOCK} 4444 x)"
    echo "E2E-L1 again=$(vsock-tool hconnect {SOCK} 1024 still-there)"
    vsock-tool hconnect {SOCK} 1099 l1-done >/dev/null
    true
'''


def refused_within(ms):
    def check(res):
        for r in res.runs:
            v = r.l("nolisten") or ""
            m = re.fullmatch(r"refused ms=(\d+)", v)
            if not m:
                return f"nolisten={v!r}: expected the connection to be refused"
            if int(m.group(1)) >= ms:
                return f"a connect to a port nobody listens on took {m.group(1)} ms (limit {ms})"
    return check


CHECKS = [guest("cid", "3"),
          guest("g2h", "hello-from-guest"),
          guest("l1-says", "l1-done"),
          l1("echo", "hello-from-l1"),
          l1("multi", "ok=8"),
          refused_within(1000),
          l1("again", "still-there"),
          l1("script-rc", "0"),
          # 1 + 8 + 1 + 1 host connections, the guest's one; the refused one counted.
          log_has(r"virtio-vsock@0xa000200: 11 host and 1 guest connections, [1-9]\d* refused "
                  r"\(0 bad CONNECT lines\), \d+ bytes to the guest, \d+ from it, \d+ resets sent, "
                  r"0 credit violations"),
          log_lacks(r"device needs reset"),
          vmm_exit(0)]


def vsock_case(name, mode):
    return Case(name,
                f"--boot {mode} --cpus boot=1 --memory 512M {VSOCK_ARGS}",
                guest_modules=VSOCK_MODULES,
                l1_files=TOOL_FILES,
                l2_files=TOOL_FILES,
                guest_script=GUEST_SCRIPT,
                l1_script=L1_SCRIPT,
                checks=CHECKS)


CASES = [
    vsock_case("vsock_acpi", "acpi"),      # LNRO0005 in the DSDT
    vsock_case("vsock_fdt", "fdt"),        # a virtio,mmio node
]
