#!/usr/bin/env python3
"""The demo: an arm64 guest booted with 1 vCPU (8 possible) and a disk image
under vmm, on nested KVM inside an emulated arm64 machine; the guest shows
its disk (/dev/vda, virtio-blk), then vmmctl grows it to 4 vCPUs and back to
1 while the guest prints what it sees. The whole serial log streams.

  python3 tests/e2e/demo.py [--vmm PATH] [--vmmctl PATH]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bed import Case  # noqa: E402
from bed.checks import guest, log_has, vmm_exit  # noqa: E402
import blkimg  # noqa: E402
import run  # noqa: E402

DISK = blkimg.LazyFiles(lambda: {"/blk/demo.img": blkimg.pattern_image()})

DEMO = Case(
    "demo_hotplug_1_4_1",
    "--cpus boot=1,max=8 --memory 512M --disk path=/blk/demo.img,readonly=on,serial=demo-disk "
    "--api-socket {socket}",
    needs_vmmctl=True,
    guest_modules=["virtio_mmio", "virtio_blk"],
    l1_files=DISK,
    guest_script='''
        e2e_load_modules && e2e_wait_path /dev/vda 20 || exit 1
        echo "guest: /dev/vda: $(($(cat /sys/block/vda/size) / 2048)) MiB, serial $(cat /sys/block/vda/serial), read-only=$(cat /sys/block/vda/ro), sha256 $(sha256sum /dev/vda | cut -c1-16)..."
        e2e_kv vda_serial "$(cat /sys/block/vda/serial)"
        e2e_onliner & op=$!
        echo "E2E ready"
        e2e_wait_state 0-3/0-3 300 || exit 1
        echo "guest: $(nproc) CPUs online: $(cat /sys/devices/system/cpu/online)"
        grep -c ^processor /proc/cpuinfo | sed 's/^/guest: processors in \\/proc\\/cpuinfo: /'
        e2e_wait_state 0/0 300 || exit 1
        echo "guest: $(nproc) CPU online: $(cat /sys/devices/system/cpu/online)"
        kill $op
    ''',
    l1_script='''
        e2e_wait_socket 30 && e2e_wait_guest "E2E ready" 200 || exit 1
        e2e_ctl info
        e2e_ctl cpu list
        e2e_ctl cpu resize 4 || exit 1
        e2e_wait_guest "E2E state=0-3/0-3" 120 || exit 1
        e2e_ctl cpu list
        e2e_ctl cpu resize 1 || exit 1
        e2e_wait_guest "E2E state=0/0" 120 || exit 1
        e2e_ctl cpu list
    ''',
    timeout=420, vmm_timeout=380,
    checks=[guest("vda_serial", "demo-disk"), log_has(r"cpus: 1 -> 4"), log_has(r"cpus: 4 -> 1"),
            guest("state", "0/0"), vmm_exit(0)])

if __name__ == "__main__":
    sys.exit(run.main(sys.argv[1:] + ["-v"], cases=[DEMO]))
