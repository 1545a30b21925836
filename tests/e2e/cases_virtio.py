"""virtio-mmio and virtio-rng in the nested guest. Debian's cloud kernel
builds virtio_mmio and virtio-rng as modules: the cases pack them into the
L2 initramfs (Case.guest_modules) and load them with e2e_load_modules."""
import re

from bed import Case
from bed.checks import dmesg_has, dmesg_lacks, guest, l1, log_has, log_lacks, vmm_exit

RNG_MODULES = ("virtio_mmio", "virtio-rng")
HWRNG = "/sys/class/misc/hw_random"

# Wait for the hwrng to bind (drivers loaded; shared with cases_channels).
RNG_UP = f'''
    n=100
    while [ "$n" -gt 0 ] && ! grep -q virtio {HWRNG}/rng_current 2>/dev/null; do
        usleep 100000; n=$((n - 1))
    done
'''
# Load the drivers, wait for the hwrng to bind, read it: how many bytes came,
# how many distinct byte values (4096 random bytes show about 256; zeros 1).
RNG_READ = '''
    e2e_load_modules || exit 1
''' + RNG_UP + f'''
    e2e_kv virtio-devices "$(ls /sys/bus/virtio/devices | wc -l)"
    e2e_kv virtio0-device "$(cat /sys/bus/virtio/devices/virtio0/device)"
    e2e_kv rng-current "$(cat {HWRNG}/rng_current)"
    e2e_kv hwrng-bytes "$(head -c 4096 /dev/hwrng | wc -c)"
    e2e_kv hwrng-distinct "$(head -c 4096 /dev/hwrng | od -An -v -tu1 | tr -s ' ' '\\n' | grep . | sort -u | wc -l)"
'''


def distinct_bytes_at_least(n):
    def check(res):
        for r in res.runs:
            v = r.g("hwrng-distinct")
            if v is None or int(v) < n:
                return f"hwrng-distinct={v}, expected at least {n} distinct byte values"
    return check


# The guest's kernel log about the device: it probed, and nothing complained.
DMESG = r"virtio|hwrng|hw_random|WARNING:|Call trace|BUG"
DMESG_CHECKS = [dmesg_lacks(r"WARNING:|Call trace|BUG|virtio.*(error|fail|timeout)")]

RNG_CHECKS = [*DMESG_CHECKS, guest("virtio-devices", "1"), guest("virtio0-device", "0x0004"),
              guest("rng-current", re.compile(r"virtio_rng\.\d+")), guest("hwrng-bytes", "4096"),
              distinct_bytes_at_least(200),
              # The data path stayed off the vCPU threads: every queue
              # notification went through the ioeventfd to the I/O thread.
              log_has(r"virtio-rng@0xa000000: [1-9]\d* queue notifications on its I/O thread, "
                      r"0 on vCPU threads \(ioeventfd on\), [1-9]\d* interrupts, \d+ resets, 0 failures"),
              log_lacks(r"device needs reset"),
              vmm_exit(0)]

CASES = [
    # ACPI: LNRO0005 in the DSDT. The L1 script lists the device with vmmctl
    # while the guest waits, then hot-adds vCPU 1 to let the guest finish.
    Case("virtio_rng_acpi",
         "--boot acpi --cpus boot=1,max=2 --memory 512M --api-socket {socket}",
         needs_vmmctl=True,
         dmesg=DMESG,
         guest_modules=RNG_MODULES,
         guest_script=RNG_READ + '''
             echo "E2E rng-read"
             n=1200
             while [ "$n" -gt 0 ] && [ "$(cat /sys/devices/system/cpu/enabled)" != 0-1 ]; do
                 usleep 100000; n=$((n - 1))
             done
             e2e_kv enabled "$(cat /sys/devices/system/cpu/enabled)"
         ''',
         l1_script='''
             e2e_wait_socket && e2e_wait_guest "E2E rng-read" 120 &&
             e2e_ctl info && e2e_ctl cpu add 1
         ''',
         checks=[*RNG_CHECKS, guest("enabled", "0-1"), l1("ctl-rc", "0"),
                 log_has(r"devices:\s+1"),
                 log_has(r"virtio-rng\s+0x0a000000 irq 48\s+driver-ok\s+notifies [1-9]\d* "
                         r"\(0 on vCPU threads, ioeventfd yes\)")]),
    # Device tree: a virtio,mmio node.
    Case("virtio_rng_fdt",
         "--boot fdt --cpus boot=1 --memory 512M",
         dmesg=DMESG,
         guest_modules=RNG_MODULES,
         guest_script=RNG_READ,
         checks=RNG_CHECKS),
    # --rng off: no virtio device at all.
    Case("virtio_rng_off",
         "--boot fdt --cpus boot=1 --memory 512M --rng off",
         guest_modules=RNG_MODULES,
         guest_script='''
             e2e_load_modules || exit 1
             e2e_kv virtio-devices "$(ls /sys/bus/virtio/devices | wc -l)"
             e2e_kv rng-current "$(cat /sys/class/misc/hw_random/rng_current)"
         ''',
         checks=[guest("virtio-devices", "0"), guest("rng-current", "none"),
                 log_lacks(r"virtio-rng@"), vmm_exit(0)]),
]

# A guest that writes the registers in the wrong order (busybox devmem, before
# any driver claims the window): the device sets DEVICE_NEEDS_RESET and logs,
# vmm keeps running, and after a reset the real driver works.
MISBEHAVE = '''
    d() { devmem "$@"; }
    e2e_kv magic "$(d 0x0a000000 32)"
    d 0x0a000070 32 8                       # FEATURES_OK before ACKNOWLEDGE|DRIVER: refused, NEEDS_RESET
    e2e_kv status-misuse "$(d 0x0a000070 32)"
    e2e_kv isr-misuse "$(d 0x0a000060 32)"
    d 0x0a000070 32 0                       # reset
    e2e_kv status-reset "$(d 0x0a000070 32)"
    d 0x0a000070 32 1; d 0x0a000070 32 3
    d 0x0a000024 32 1; d 0x0a000020 32 1; d 0x0a000070 32 11
    d 0x0a000030 32 0; d 0x0a000038 32 16
    d 0x0a000044 32 1                       # QueueReady with no ring addresses
    e2e_kv status-unset-rings "$(d 0x0a000070 32)"
    e2e_kv queue-ready "$(d 0x0a000044 32)"
    d 0x0a000070 32 0
'''

CASES += [
    Case("virtio_guest_misbehaves",
         "--boot fdt --cpus boot=1 --memory 512M",
         guest_modules=RNG_MODULES,
         guest_script=MISBEHAVE + RNG_READ,
         checks=[guest("magic", "0x74726976"), guest("status-misuse", "0x00000040"),
                 guest("isr-misuse", "0x00000002"), guest("status-reset", "0x00000000"),
                 guest("status-unset-rings", "0x0000004B"), guest("queue-ready", "0x00000000"),
                 log_has(r"virtio-rng@0xa000000: FEATURES_OK before ACKNOWLEDGE and DRIVER; "
                         r"device needs reset"),
                 log_has(r"virtio-rng@0xa000000: queue 0: descriptor table is outside guest RAM; "
                         r"device needs reset"),
                 guest("rng-current", re.compile(r"virtio_rng\.\d+")), guest("hwrng-bytes", "4096"),
                 distinct_bytes_at_least(200),
                 log_has(r"virtio-rng@0xa000000: [1-9]\d* queue notifications on its I/O thread, "
                         r"0 on vCPU threads \(ioeventfd on\), \d+ interrupts, \d+ resets, 2 failures"),
                 vmm_exit(0)]),
]
