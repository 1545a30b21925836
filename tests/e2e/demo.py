#!/usr/bin/env python3
"""The demo: an arm64 guest booted with 1 vCPU (8 possible) under vmm, on
nested KVM inside an emulated arm64 machine; vmmctl grows it to 4 vCPUs and
back to 1 while the guest prints what it sees. The whole serial log streams.

  python3 tests/e2e/demo.py [--vmm PATH] [--vmmctl PATH]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bed import Case  # noqa: E402
from bed.checks import guest, log_has, vmm_exit  # noqa: E402
import run  # noqa: E402

DEMO = Case(
    "demo_hotplug_1_4_1",
    "--cpus boot=1,max=8 --memory 512M --api-socket {socket}",
    needs_vmmctl=True,
    guest_script='''
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
    checks=[log_has(r"cpus: 1 -> 4"), log_has(r"cpus: 4 -> 1"),
            guest("state", "0/0"), vmm_exit(0)])

if __name__ == "__main__":
    sys.exit(run.main(sys.argv[1:] + ["-v"], cases=[DEMO]))
