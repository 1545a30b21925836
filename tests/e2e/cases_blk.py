"""virtio-blk on the nested bed. Disk images are made on the host
(blkimg.py) and packed into the L1 initramfs under /blk/ (RAM: they stay a
few MiB). Their contents are checked in the guest and, after vmm exits, in
L1 (the L1 script waits for vmm's exit status file, then hashes the file).
The guest loads virtio_mmio and virtio_blk, which Debian's cloud kernel
builds as modules."""
import re

import blkimg
from bed import Case
from bed.checks import dmesg_lacks, guest, guests, log_has, log_lacks, vmm_exit
from bed.runner import TOP

MODS = ["virtio_mmio", "virtio_blk"]
BUSYBOX = TOP / ".cache/busybox/busybox"
MiB = 1 << 20
COMPLAINTS = r"WARNING:|Call trace|I/O error|Buffer I/O|blk_update_request|EXT4-fs error"

# Guest data for the write cases: 1 MiB of a line `yes` repeats.
WRITE_LINE = "vmm-blk e2e write 0123456789abcdef"
WRITE_BYTES = (WRITE_LINE + "\n").encode() * (MiB // (len(WRITE_LINE) + 1) + 1)
WRITE_BYTES = WRITE_BYTES[:MiB]

GUEST_PRELUDE = '''
    e2e_load_modules || exit 1
    e2e_wait_path /dev/vda 20 || exit 1
    yes "%s" | head -c 1048576 >/tmp/w
''' % WRITE_LINE

# After vmm exits: hash each disk file, as "E2E-L1 sha-<name>=<hex>".
def l1_hash_after_exit(*names):
    lines = "".join(f'echo "E2E-L1 sha-{n}=$(sha256sum /blk/{n}.img | cut -d" " -f1)"\n' for n in names)
    return ('n=0\nwhile [ ! -f /run/vmm.rc ] && [ "$n" -lt 3000 ]; do usleep 100000; n=$((n + 1)); done\n'
            '[ -f /run/vmm.rc ] || exit 1\n' + lines)


def l1_after(key, expected):
    """An L1 line printed after vmm exited (outside the run): E2E-L1 key=expected."""
    def check(res):
        ev = res.l1.get(key)
        got = ev[-1].value if ev else None
        if got != expected:
            return f"L1 {key}={got!r}, expected {expected!r}"
    check.__name__ = f"l1_after({key})"
    return check


def with_region(base: bytes, offset: int, data: bytes) -> bytes:
    return base[:offset] + data + base[offset + len(data):]


PATTERN = blkimg.pattern_bytes(4 * MiB)
ZERO = bytes(4 * MiB)
# blk_read_write_readonly_fdt: the write at 1 MiB stays; 64 KiB written at 3 MiB
# then discarded reads back as zeroes.
WRITTEN = with_region(ZERO, MiB, WRITE_BYTES)


def files(**kw):
    return blkimg.LazyFiles(lambda: {f"/blk/{k}.img": make() for k, make in kw.items()})


CASES = [
    # vda: a read-only disk made on the host: the guest reads exactly its
    # bytes, sees it read-only with its serial, cannot write it, and the file
    # is unchanged. vdb: a writable one: the guest writes 1 MiB and fsyncs,
    # writes and discards 64 KiB, and powers off; after vmm exits the file
    # holds exactly that. (busybox has no BLKZEROOUT: WRITE_ZEROES is covered
    # by the unit tests.)
    Case("blk_read_write_readonly_fdt",
         "--boot fdt --cpus boot=2 --memory 512M "
         "--disk path=/blk/pattern.img,readonly=on,serial=vmm-pattern-disk --disk path=/blk/zero.img",
         guest_modules=MODS,
         l1_files=files(pattern=blkimg.pattern_image, zero=blkimg.zero_image),
         guest_script=GUEST_PRELUDE + '''
             e2e_wait_path /dev/vdb 20 || exit 1
             e2e_kv vda-size "$(cat /sys/block/vda/size)"
             e2e_kv vda-ro "$(cat /sys/block/vda/ro)"
             e2e_kv vda-serial "$(cat /sys/block/vda/serial)"
             e2e_kv vda-queues "$(ls /sys/block/vda/mq | wc -l)"
             e2e_kv vda-lbs "$(cat /sys/block/vda/queue/logical_block_size)"
             e2e_kv vda-sha "$(sha256sum /dev/vda | cut -d' ' -f1)"
             e2e_kv vda-sector-4097 "$(dd if=/dev/vda bs=512 skip=4097 count=1 2>/dev/null | head -n 1)"
             dd if=/tmp/w of=/dev/vda bs=4096 count=1 conv=fsync 2>/dev/null
             e2e_kv ro-write-rc $?
             dd if=/tmp/w of=/dev/vda bs=4096 count=1 oflag=direct 2>/dev/null
             e2e_kv ro-direct-write-rc $?

             e2e_kv vdb-ro "$(cat /sys/block/vdb/ro)"
             dd if=/tmp/w of=/dev/vdb bs=65536 seek=16 conv=fsync 2>/dev/null || exit 1
             dd if=/tmp/w of=/dev/vdb bs=65536 seek=48 count=1 conv=fsync 2>/dev/null || exit 1
             e2e_kv discard-max "$(cat /sys/block/vdb/queue/discard_max_bytes)"
             blkdiscard -o 3145728 -l 65536 /dev/vdb
             e2e_kv discard-rc $?
             e2e_kv written-sha "$(sha256sum /tmp/w | cut -d' ' -f1)"
             e2e_kv readback-sha "$(dd if=/dev/vdb bs=65536 skip=16 count=16 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
             e2e_kv discarded-sha "$(dd if=/dev/vdb bs=65536 skip=48 count=1 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
             sync
         ''',
         l1_script=l1_hash_after_exit("pattern", "zero"),
         dmesg=COMPLAINTS + r"|virtio_blk|vda|vdb",
         checks=[*guests(vda_size=8192, vda_ro=1, vda_serial="vmm-pattern-disk", vda_queues=2,
                         vda_lbs=512, vdb_ro=0),
                 guest("vda-sha", blkimg.sha256(PATTERN)),
                 guest("vda-sector-4097", "vmm-blk sector 00004097"),
                 guest("ro-write-rc", "1"), guest("ro-direct-write-rc", "1"),
                 l1_after("sha-pattern", blkimg.sha256(PATTERN)),
                 guest("written-sha", blkimg.sha256(WRITE_BYTES)),
                 guest("readback-sha", blkimg.sha256(WRITE_BYTES)),
                 guest("discard-rc", "0"),
                 guest("discarded-sha", blkimg.sha256(bytes(65536))),
                 l1_after("sha-zero", blkimg.sha256(WRITTEN)),
                 dmesg_lacks(COMPLAINTS), vmm_exit(0)]),

    # Writes the guest saw complete (O_DIRECT, no flush) survive vmm being
    # stopped by SIGTERM while the guest still runs.
    Case("blk_sigterm_keeps_completed_writes",
         "--cpus boot=1 --memory 512M --disk path=/blk/zero.img",
         guest_modules=MODS,
         l1_files=files(zero=blkimg.zero_image),
         guest_script=GUEST_PRELUDE + '''
             dd if=/tmp/w of=/dev/vda bs=65536 seek=16 oflag=direct 2>/dev/null || exit 1
             echo "E2E written"
             sleep 600
         ''',
         l1_script='''
             e2e_wait_guest "E2E written" 200 || exit 1
             kill -TERM "$(pidof vmm)"
         ''' + l1_hash_after_exit("zero"),
         boots=False,
         checks=[log_has(r"E2E written"), log_has(r"stopped by SIGTERM"),
                 l1_after("sha-zero", blkimg.sha256(WRITTEN)), vmm_exit(0)]),
]


# Boot from an ext4 root on partition 1 of a disk (root=/dev/vda1, as Kata
# does), in ACPI mode then in device-tree mode (two runs of one boot, on the
# same disk): a minimal initramfs loads the modules and switch_roots; the
# root holds the bed's L2 /init, which reports as usual.
def root_case():
    name = "blk_root_ext4_acpi_fdt"
    token = "vmm-ext4-root"
    script = '''
        e2e_kv root-token "$(cat /etc/vmm-e2e-root)"
        e2e_kv root-mount "$(awk '$2 == "/" { print $1 " " $3 }' /proc/mounts)"
        e2e_kv vda1-start "$(cat /sys/block/vda/vda1/start)"
        e2e_kv boot-mode "$([ -d /sys/firmware/acpi/tables ] && echo acpi || echo fdt)"
        echo "written from the guest" >/e2e/guest-note && sync
        e2e_kv note "$(cat /e2e/guest-note)"
    '''

    def make():
        return {"/blk/root.img": blkimg.root_disk(BUSYBOX, name, script, token),
                "/blk/boot.cpio": blkimg.boot_initrd(BUSYBOX)}
    disk = "--cpus boot=2 --memory 512M --disk path=/blk/root.img,serial=root"
    return Case(name,
                runs=[f"--boot acpi {disk}", f"--boot fdt {disk}"],
                base_args=("--kernel", "{kernel}", "--initrd", "/blk/boot.cpio",
                           "--cmdline", "{cmdline}", "--console", "stdio"),
                cmdline="quiet panic=-1 root=/dev/vda1",
                l1_files=blkimg.LazyFiles(make),
                dmesg=COMPLAINTS + r"|EXT4-fs",
                timeout=900, vmm_timeout=420,
                checks=[guest("root-token", token), guest("root-mount", "/dev/vda1 ext4"),
                        guest("vda1-start", "2048"), guest("note", "written from the guest"),
                        guest("boot-mode", "acpi", run=0), guest("boot-mode", "fdt", run=1),
                        log_lacks(r"E2E-BOOT"), dmesg_lacks(COMPLAINTS), vmm_exit(0)])


CASES += [root_case()]

# Three disks, multiqueue, while vCPUs come and go: one queue per possible
# vCPU (4) by default, 2 on the last disk; I/O runs on every disk through
# the resizes and each disk's contents are checked at the end.
CASES += [
    Case("blk_multi_disk_hotplug",
         "--cpus boot=1,max=4 --memory 512M --api-socket {socket} "
         "--disk path=/blk/pattern.img,readonly=on --disk path=/blk/zero.img "
         "--disk path=/blk/zero2.img,num_queues=2,queue_size=64",
         guest_modules=MODS,
         needs_vmmctl=True,
         l1_files=files(pattern=blkimg.pattern_image, zero=blkimg.zero_image,
                        zero2=lambda: blkimg.zero_image(2 * MiB)),
         guest_script=GUEST_PRELUDE + '''
             e2e_wait_path /dev/vdc 20 || exit 1
             e2e_kv queues "$(ls /sys/block/vda/mq | wc -l) $(ls /sys/block/vdb/mq | wc -l) $(ls /sys/block/vdc/mq | wc -l)"
             e2e_onliner & op=$!
             io() {  # $1: rounds; every CPU that is online takes part
                 i=0
                 while [ "$i" -lt "$1" ]; do
                     sha256sum /dev/vda >/tmp/sha-a.$i & a=$!
                     dd if=/tmp/w of=/dev/vdb bs=65536 seek=16 conv=fsync 2>/dev/null & b=$!
                     dd if=/tmp/w of=/dev/vdc bs=4096 count=256 oflag=direct 2>/dev/null & c=$!
                     wait $a $b $c
                     i=$((i + 1))
                 done
             }
             # I/O on every disk all through the resizes, until told to stop.
             ( n=0; while [ ! -f /tmp/stop-io ]; do io 1; n=$((n + 1)); done; echo "E2E io-rounds=$n" ) & iop=$!
             echo "E2E ready"
             e2e_wait_state 0-3/0-3 300 || exit 1
             e2e_report grown
             e2e_wait_state 0/0 600 || exit 1
             touch /tmp/stop-io
             wait $iop
             kill $op
             e2e_report shrunk
             e2e_kv sha-a "$(sort -u /tmp/sha-a.* | cut -d' ' -f1 | tr '\\n' ' ')"
             e2e_kv sha-b "$(dd if=/dev/vdb bs=65536 skip=16 count=16 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
             e2e_kv sha-c "$(dd if=/dev/vdc bs=4096 count=256 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
         ''',
         l1_script='''
             e2e_wait_socket 30 && e2e_wait_guest "E2E ready" 200 || exit 1
             e2e_ctl cpu resize 4 || exit 1
             e2e_wait_guest "E2E grown.online=" 400 || exit 1
             e2e_ctl cpu resize 1 || exit 1
         ''' + l1_hash_after_exit("pattern", "zero"),
         timeout=900, vmm_timeout=860,
         dmesg=COMPLAINTS,
         checks=[guest("queues", "4 4 2"), guest("grown.online", "0-3"), guest("shrunk.online", "0"),
                 guest("io-rounds", re.compile(r"[1-9][0-9]*")),
                 guest("sha-a", blkimg.sha256(PATTERN)),
                 guest("sha-b", blkimg.sha256(WRITE_BYTES)),
                 guest("sha-c", blkimg.sha256(WRITE_BYTES)),
                 l1_after("sha-pattern", blkimg.sha256(PATTERN)),
                 l1_after("sha-zero", blkimg.sha256(WRITTEN)),
                 dmesg_lacks(COMPLAINTS), vmm_exit(0)]),
]
