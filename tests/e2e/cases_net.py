"""virtio-net on a tap in L1. vmm creates (or is handed) tap vmmtap0 in the
outer guest; L1 gives it 10.0.0.1/24, the nested guest 10.0.0.2/24 on eth0.
Both sides ping each other and stream 4 MiB of random data each way through
busybox nc, compared by MD5 (in ACPI mode while a vCPU is hot-added). The addresses exist only on that tap, inside
the emulated machine.

Modules: Debian's cloud kernel builds tun (L1) and virtio_net (L2, with
net_failover and failover) as modules; the cases pack them (Case.l1_modules,
Case.guest_modules). L1's tapfd helper (bed/guest/tapfd.c) opens the tap as
Kata does and runs vmm with --net fd=N."""
import re

from bed import Case
from bed.case import Run
from bed.checks import guest, l1, log_has, log_lacks, vmm_exit

TAP = "vmmtap0"
L1_IP, L2_IP = "10.0.0.1", "10.0.0.2"
MAC = "52:54:00:00:00:02"
NET_MODULES = ("virtio_mmio", "virtio_net")
BLOB_KB = 4096

# The nested guest's eth0 up with its address (drivers loaded), and L1's
# tap up with its own once vmm (or tapfd) made it (shared with cases_channels).
ETH0_UP = f'''
    e2e_wait_path /sys/class/net/eth0 20 || exit 1
    ip link set eth0 up && ip addr add {L2_IP}/24 dev eth0 || exit 1
'''
TAP_UP = f'''
    n=600; until [ -e /sys/class/net/{TAP} ]; do n=$((n - 1)); [ "$n" -gt 0 ] || exit 1; usleep 100000; done
    ip addr add {L1_IP}/24 dev {TAP} && ip link set {TAP} up || exit 1
'''

# Nested guest: driver, address, a random blob; serve it on 5000 (L2 -> L1),
# receive on 5001 (L1 -> L2), and stay up until L1 connects to 5002 when it is
# done. busybox nc closes the connection at EOF on its stdin, so a receiver's
# stdin is a FIFO held open (fd 3) that never reaches EOF.
GUEST = '''
    e2e_load_modules || exit 1
''' + ETH0_UP + f'''
    e2e_kv mac "$(cat /sys/class/net/eth0/address)"
    e2e_kv rx-queues "$(ls /sys/class/net/eth0/queues | grep -c rx-)"
    dd if=/dev/urandom of=/tmp/blob bs=1k count={BLOB_KB} 2>/dev/null
    e2e_kv blob-md5 "$(md5sum </tmp/blob | cut -d' ' -f1)"
    mkfifo /tmp/hold && exec 3<>/tmp/hold
    nc -l -p 5000 </tmp/blob &
    ( nc -l -p 5001 <&3 >/tmp/up; echo $? >/tmp/up.rc ) & up=$!
    nc -l -p 5002 <&3 >/dev/null & fin=$!
    echo "E2E net-ready"
    # Quiet until L1 is done (it prints on the same console): results after.
    n=30
    until ping -c 1 -W 2 {L1_IP} >/dev/null 2>&1; do
        n=$((n - 1)); [ "$n" -gt 0 ] || break
    done
    wait $up
    wait $fin
    e2e_kv ping-l1 "$([ "$n" -gt 0 ] && echo ok || echo fail)"
    e2e_kv up-nc-rc "$(cat /tmp/up.rc)"
    e2e_kv up-md5 "$(md5sum </tmp/up | cut -d' ' -f1)"
    e2e_kv enabled "$(cat /sys/devices/system/cpu/enabled)"
    for s in rx_packets tx_packets rx_errors tx_errors; do
        e2e_kv "eth0-$s" "$(cat /sys/class/net/eth0/statistics/$s)"
    done
'''

# L1, once per run: wait for the tap (vmm made it, or tapfd did), address it,
# wait for the guest, ping, stream both ways, release the guest, then wait for
# the tap to go away with the run. BADFD=1: also check that vmm refuses a
# descriptor that is not a tap (exit 2, one line naming it).
L1 = f'''
    e2e_link() {{ [ -e /sys/class/net/{TAP} ]; }}
    say() {{ printf '\\nE2E-L1 %s\\n' "$*"; }}   # a line of its own on the shared console
    dd if=/dev/urandom of=/tmp/blob bs=1k count={BLOB_KB} 2>/dev/null
    src=$(md5sum </tmp/blob | cut -d' ' -f1)
    mkfifo /tmp/hold && exec 3<>/tmp/hold
    i=0
    while [ "$i" -lt "$E2E_RUNS" ]; do
''' + TAP_UP + f'''
        e2e_wait_guest "E2E net-ready" 240 || exit 1
        ctl=
        if [ "$i" = 0 ] && [ "${{HOTPLUG:-0}}" = 1 ]; then   # a vCPU arrives during the streams
            ( e2e_wait_socket && e2e_ctl cpu add 1 ) >/tmp/ctl.out 2>&1 & ctl=$!
        fi
        ping -c 3 -W 5 {L2_IP} >/dev/null
        say "ping=$?"
        say "down-md5=$(nc {L2_IP} 5000 <&3 | md5sum | cut -d' ' -f1)"
        say "up-src-md5=$src"
        nc {L2_IP} 5001 </tmp/blob
        say "up-rc=$?"
        if [ "${{BADFD:-0}}" = 1 ]; then
            /bin/vmm --kernel /e2e/Image --net fd=0 </e2e/case.sh 2>/tmp/badfd.err
            say "badfd-rc=$?"
            say "badfd-msg=$(cat /tmp/badfd.err)"
        fi
        if [ -n "$ctl" ]; then
            wait $ctl
            say "hotplug-rc=$?"
        fi
        nc {L2_IP} 5002 </dev/null
        n=1200; while e2e_link; do n=$((n - 1)); [ "$n" -gt 0 ] || exit 1; usleep 100000; done
        i=$((i + 1))
    done
'''


def same(l2_key, l1_key):
    """The guest's value of l2_key equals L1's value of l1_key, in every run (checksums)."""
    def check(res):
        for r in res.runs:
            a, b = r.g(l2_key), r.l(l1_key)
            if not a or a != b:
                return f"run {r.index}: guest {l2_key}={a!r} but L1 {l1_key}={b!r}"
    check.__name__ = f"same({l2_key}, {l1_key})"
    return check


CHECKS = [
    guest("mac", re.compile(r"[0-9a-f:]{17}")), guest("ping-l1", "ok"), l1("ping", "0"),
    l1("up-rc", "0"), guest("up-nc-rc", "0"),
    same("blob-md5", "down-md5"),        # L2 -> L1
    same("up-md5", "up-src-md5"),        # L1 -> L2
    guest("eth0-rx_errors", "0"), guest("eth0-tx_errors", "0"),
    # The exit log's counters: both directions carried the streams.
    # (GSO: a 4 MiB stream may be only a few dozen packets.)
    log_has(r"virtio-net@0x[0-9a-f]+: rx [1-9]\d* packets [1-9]\d{6,} bytes 0 dropped, "
            r"tx [1-9]\d* packets [1-9]\d{6,} bytes \d+ dropped"),
    log_lacks(r"device needs reset"),
    vmm_exit(0),
]

BASE = "--memory 512M --rng off"

CASES = [
    # vmm opens tap=vmmtap0: ACPI with a fixed MAC, vCPU 1 hot-added while the
    # streams run; then the device tree with two queue pairs (multiqueue tap,
    # control queue; 2 vCPUs, so Linux enables both).
    Case("net_tap",
         runs=[f"--boot acpi --cpus boot=1,max=2 {BASE} --net tap={TAP},mac={MAC} "
               "--api-socket {socket}",
               f"--boot fdt --cpus boot=2 {BASE} --net tap={TAP},num_queues=4"],
         guest_modules=NET_MODULES, l1_modules=("tun",), needs_vmmctl=True,
         guest_script=GUEST, l1_script="HOTPLUG=1\n" + L1,
         timeout=900, vmm_timeout=360,
         checks=[*CHECKS, guest("mac", MAC, run=0), guest("rx-queues", "1", run=0),
                 guest("rx-queues", "2", run=1), l1("hotplug-rc", "0", run=0),
                 guest("enabled", "0-1", run=0)]),
    # Kata's way: L1 opens the tap (0x5002) and vmm gets the fd; a descriptor
    # that is not a tap is refused before any VM exists.
    Case("net_fd",
         runs=[Run(f"--boot acpi --cpus boot=1 {BASE}", program=["/bin/tapfd", TAP, "/bin/vmm"])],
         guest_modules=NET_MODULES, l1_modules=("tun",), l1_tools=("tapfd",),
         guest_script=GUEST, l1_script="BADFD=1\n" + L1,
         timeout=600, vmm_timeout=360,
         checks=[*CHECKS, guest("rx-queues", "1"), l1("badfd-rc", "2"),
                 l1("badfd-msg", "vmm: --net: fd 0 is not a tap (TUNGETIFF: "
                                 "Inappropriate ioctl for device)")]),
]
