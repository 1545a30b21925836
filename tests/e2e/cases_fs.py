"""virtio-fs served by virtiofsd (vhost-user) in L1, mounted in the nested
guest. virtiofsd comes from Debian trixie (scripts/fetch-virtiofsd.sh) into
.cache/virtiofsd and is packed into L1 as /opt/virtiofsd; the wrapper
bed/guest/l1-virtiofsd.sh starts it on a tmpfs with a file in it, runs vmm,
then reports what the guest wrote. The guest loads virtio_mmio from the
kernel package; Debian's cloud kernel has virtiofs and fuse built in."""
import re
from pathlib import Path

from bed import Case
from bed.case import Run
from bed.checks import dmesg_lacks, guest, l1, log_has, log_lacks, vmm_exit

TOP = Path(__file__).resolve().parents[2]
VIRTIOFSD = TOP / ".cache" / "virtiofsd"
WRAPPER = Path(__file__).resolve().parent / "bed" / "guest" / "l1-virtiofsd.sh"
L1_FILES = {"/opt/virtiofsd": VIRTIOFSD, "/e2e/l1-virtiofsd.sh": WRAPPER}
PROGRAM = ("/bin/sh", "/e2e/l1-virtiofsd.sh", "/bin/vmm")
FS_MODULES = ("virtio_mmio",)  # virtiofs and fuse are built into the cloud kernel
FS_ARGS = "--cpus boot=1 --memory size=512M,shared=on --fs tag=share,socket=/run/virtiofsd.sock"
DMESG = r"virtio|fuse|WARNING:|Call trace|BUG"

# Mount the share on /mnt (drivers loaded; shared with cases_channels).
FS_MOUNT = '''
    mkdir -p /mnt
    mount -t virtiofs share /mnt
    e2e_kv mount-rc $?
    e2e_kv fstype "$(awk '$2 == "/mnt" {print $3}' /proc/mounts)"
'''
# Mount, read L1's file, write one back, sync, unmount.
MOUNT_RW = '''
    e2e_load_modules || exit 1
''' + FS_MOUNT + '''
    e2e_kv l1-file-sum "$(md5sum </mnt/from-l1.bin | cut -d' ' -f1)"
    dd if=/dev/urandom of=/tmp/from-l2.bin bs=64k count=8 2>/dev/null
    e2e_kv l2-sum "$(md5sum </tmp/from-l2.bin | cut -d' ' -f1)"
    cp /tmp/from-l2.bin /mnt/from-l2.bin
    sync
    # The device's interrupt as the guest sees it: its trigger and how many it took.
    for d in /sys/bus/virtio/devices/*; do
        [ "$(cat $d/device)" = 0x001a ] && fsdev=${d##*/}
    done
    set -- $(awk -v d="$fsdev" '$NF == d { t = "?"; for (i = 3; i < NF; i++)
        if ($i == "Edge" || $i == "Level") t = $i; print $2, t }' /proc/interrupts)
    e2e_kv fs-irqs "$1"
    e2e_kv fs-irq-trigger "$2"
    umount /mnt
    e2e_kv umount-rc $?
'''


def same(guest_key, l1_key, guest_is_source=False):
    """The guest's value of guest_key equals L1's l1_key (both must exist)."""
    def check(res):
        for r in res.runs:
            g, l = r.g(guest_key), r.l(l1_key)
            if not g or not l or g != l:
                return f"guest {guest_key}={g!r} but L1 {l1_key}={l!r}"
    return check


FS_CHECKS = [l1("virtiofsd", "up"), guest("mount-rc", "0"), guest("fstype", "virtiofs"),
             same("l1-file-sum", "l1-sum"), same("l2-sum", "l2-file-sum"),
             guest("umount-rc", "0"),
             dmesg_lacks(r"WARNING:|Call trace|BUG|virtio.*(error|fail|timeout)"),
             log_has(r"virtio-fs@0xa000200: tag share, vhost-user backend /run/virtiofsd.sock"),
             # Described edge-triggered in both boot modes, and the guest took interrupts.
             guest("fs-irq-trigger", "Edge"), guest("fs-irqs", re.compile(r"[1-9]\d*")),
             # Neither direction reaches a vCPU thread or the VMM's I/O thread: kicks are
             # ioeventfds, the backend's calls irqfds (the VMM raised no interrupt itself).
             log_has(r"virtio-fs@0xa000200: 0 queue notifications on its I/O thread, "
                     r"0 on vCPU threads \(ioeventfd on\), 0 interrupts, \d+ resets, 0 failures, "
                     r"0 backend calls relayed \(call irqfds on\)"),
             log_lacks(r"device needs reset"), vmm_exit(0)]


def fs_case(name, boot):
    return Case(name, runs=[Run(f"--boot {boot} {FS_ARGS}", program=PROGRAM)],
                l1_files=L1_FILES, guest_modules=FS_MODULES, dmesg=DMESG,
                guest_script=MOUNT_RW, checks=FS_CHECKS)


CASES = [
    fs_case("virtio_fs_fdt", "fdt"),
    fs_case("virtio_fs_acpi", "acpi"),
]

# virtiofsd is killed while the guest has the share mounted: vmm logs why and
# fails the device (the guest sees DEVICE_NEEDS_RESET in the status), the VM
# keeps running and powers off normally.
BACKEND_DIES_GUEST = '''
    e2e_load_modules || exit 1
    mkdir -p /mnt
    mount -t virtiofs share /mnt
    e2e_kv mount-rc $?
    e2e_kv l1-file-sum "$(md5sum </mnt/from-l1.bin | cut -d' ' -f1)"
    for d in /sys/bus/virtio/devices/*; do
        [ "$(cat $d/device)" = 0x001a ] && dev=$d
    done
    echo "E2E fs-mounted"
    n=300
    while [ "$n" -gt 0 ] && [ $(( $(cat $dev/status) & 64 )) = 0 ]; do
        usleep 100000; n=$((n - 1))
    done
    e2e_kv status-after-kill "$(cat $dev/status)"
    # Power off as /init would, but without busybox's sync: syncing a
    # virtiofs mount sends FUSE_SYNCFS, which a dead backend never answers.
    echo "E2E done uptime=$(e2e_uptime)"
    poweroff -n -f
'''

CASES += [
    Case("virtio_fs_backend_dies",
         runs=[Run(f"--boot fdt {FS_ARGS} --rng off", program=PROGRAM)],
         l1_files=L1_FILES, guest_modules=FS_MODULES,
         guest_script=BACKEND_DIES_GUEST,
         l1_script='''
             e2e_wait_guest "E2E fs-mounted" 120 &&
             kill "$(cat /run/virtiofsd.pid)" && echo "E2E-L1 killed=yes"
         ''',
         checks=[guest("mount-rc", "0"), same("l1-file-sum", "l1-sum"),
                 guest("status-after-kill", "0x0000004f"),
                 log_has(r"virtio-fs@0xa000000: vhost-user backend /run/virtiofsd.sock closed "
                         r"the connection; device needs reset"),
                 log_has(r"virtio-fs@0xa000000: .* 1 failures"),
                 vmm_exit(0)]),
]
