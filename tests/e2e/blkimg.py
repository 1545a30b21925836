"""Disk images and guest pieces for the virtio-blk cases (cases_blk.py) and
the benchmark (bench_blk.py), made on the host and cached in .cache/e2e/blk/.

- pattern_image: every 512-byte sector says which sector it is, so a guest
  that reads it back can be checked byte for byte (sha256);
- zero_image: a file of zeroes, for the guest to write into;
- root_disk: a partitioned disk (MBR, one Linux partition at 1 MiB) whose
  ext4 file system (mke2fs -d, no root needed) holds a complete L2 root:
  busybox, the bed's L2 /init and helpers, the case's config and script;
- boot_initrd: a minimal initramfs that loads virtio_mmio and virtio_blk
  (modules in Debian's cloud kernel, from bed/modules.py) and switch_roots
  to root= (as a distribution's initramfs, or Kata, boots).
Everything is deterministic, so a cached file is reused while its inputs
stay the same.
"""
import hashlib
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from bed.cpio import CpioWriter
from bed.images import GUEST_DIR, sh_assign
from bed.modules import ModuleCache
from bed.runner import TOP

CACHE = TOP / ".cache/e2e/blk"
SECTOR = 512


def _fresh(path: Path, make):
    """Build path with make(tmp_path) unless it exists."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        make(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def pattern_bytes(size: int) -> bytes:
    out = bytearray()
    for s in range(size // SECTOR):
        line = f"vmm-blk sector {s:08d}\n".encode()
        out += (line * (SECTOR // len(line) + 1))[:SECTOR]
    return bytes(out)


def pattern_image(size=4 << 20) -> Path:
    return _fresh(CACHE / f"pattern-{size}.img", lambda p: p.write_bytes(pattern_bytes(size)))


def zero_image(size=4 << 20) -> Path:
    def make(p):
        with open(p, "wb") as f:
            f.truncate(size)
    return _fresh(CACHE / f"zero-{size}.img", make)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def kernel_modules() -> list:
    """virtio_mmio.ko and virtio_blk.ko (and what they need), in load order, from the kernel package."""
    return ModuleCache(TOP / ".cache/e2e", TOP / ".cache/kernel/Image").resolve(["virtio_mmio", "virtio_blk"])


BOOT_INIT = r"""#!/bin/busybox sh
# Minimal initramfs: load the virtio modules, mount root= and switch to it.
B=/bin/busybox
$B mkdir -p /proc /sys /dev /newroot
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
for m in /lib/modules/*.ko; do $B insmod "$m" || echo "E2E-BOOT insmod-failed=$m"; done
root=
for a in $($B cat /proc/cmdline); do
	case "$a" in root=*) root=${a#root=} ;; esac
done
n=0
while [ ! -b "$root" ] && [ "$n" -lt 100 ]; do $B usleep 100000; n=$((n + 1)); done
if ! $B mount -t ext4 "$root" /newroot; then
	echo "E2E-BOOT mount-failed root=$root"
	$B poweroff -f
fi
$B umount /proc /sys
$B mount --move /dev /newroot/dev 2>/dev/null || $B umount /dev
exec $B switch_root /newroot /init
"""


def boot_initrd(busybox: Path) -> Path:
    mods = kernel_modules()
    key = hashlib.sha256(BOOT_INIT.encode() + b"".join(Path(m).read_bytes() for m in mods)
                         + Path(busybox).read_bytes()).hexdigest()[:16]

    def make(p):
        with open(p, "wb") as f:
            w = CpioWriter(f)
            for d in ("bin", "dev", "proc", "sys", "newroot", "lib/modules"):
                w.mkdir(d)
            w.add_chardev("dev/console", 5, 1)
            w.add_file("bin/busybox", str(busybox), 0o755)
            w.add_bytes("init", BOOT_INIT.encode(), 0o755)
            for i, m in enumerate(mods):
                w.add_file(f"lib/modules/{i}-{Path(m).name}", str(m), 0o644)
            w.close()
    return _fresh(CACHE / f"boot-{key}.cpio", make)


def mbr(part_start: int, part_sectors: int, disk_id=0x766d6d31) -> bytes:
    """A DOS partition table with one Linux (0x83) partition, in LBA terms."""
    entry = struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", 0x83, b"\xfe\xff\xff", part_start, part_sectors)
    return bytes(440) + struct.pack("<IH", disk_id, 0) + entry + bytes(48) + b"\x55\xaa"


def root_disk(busybox: Path, case_name: str, guest_script: str, token: str, size=8 << 20) -> Path:
    """A partitioned disk image whose partition 1 is an ext4 L2 root for case_name."""
    files = {
        "bin/busybox": Path(busybox).read_bytes(),
        "init": (GUEST_DIR / "l2-init.sh").read_bytes(),
        "e2e/lib.sh": (GUEST_DIR / "l2-lib.sh").read_bytes(),
        "e2e/config": (sh_assign("E2E_CASE", case_name) + sh_assign("E2E_DMESG", "")).encode(),
        "e2e/guest.sh": guest_script.encode(),
        "etc/vmm-e2e-root": (token + "\n").encode(),
    }
    key = hashlib.sha256(repr(sorted(files.items())).encode() + str(size).encode()).hexdigest()[:16]

    def make(p):
        start = 2048
        with tempfile.TemporaryDirectory() as d:
            root = Path(d) / "root"
            for sub in ("bin", "sbin", "dev", "proc", "sys", "tmp", "run", "e2e", "etc", "mnt"):
                (root / sub).mkdir(parents=True, exist_ok=True)
            for name, data in files.items():
                (root / name).write_bytes(data)
                (root / name).chmod(0o755 if name in ("bin/busybox", "init") else 0o644)
            part = Path(d) / "part.img"
            with open(part, "wb") as f:
                f.truncate(size - start * SECTOR)
            subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "vmm-root", "-E",
                            "root_owner=0:0", "-d", str(root), str(part)], check=True)
            with open(p, "wb") as f:
                f.write(mbr(start, (size // SECTOR) - start))
                f.write(bytes(start * SECTOR - SECTOR))
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, f)
    return _fresh(CACHE / f"root-{case_name}-{key}.img", make)


class LazyFiles(Mapping):
    """l1_files whose host files are made only when the bed packs the case."""

    def __init__(self, make):
        self._make, self._d = make, None

    def _files(self):
        if self._d is None:
            self._d = {k: str(v) for k, v in self._make().items()}
        return self._d

    def __getitem__(self, k):
        return self._files()[k]

    def __iter__(self):
        return iter(self._files())

    def __len__(self):
        return len(self._files())
