"""Scale: 256 possible vCPUs over two redistributor regions, hot-added and
removed at both ends of the second region; the vCPUs' PMU in both boot modes."""
import re

from bed import Case
from bed.checks import dmesg_has, dmesg_lacks, guest, vmm_exit
from cases import KERNEL_COMPLAINTS

# vCPUs 0-122 have their redistributors in region 0, 123-255 in region 1.
CASES = [
    Case("scale_max256_hotplug_region1",
         "--cpus boot=1,max=256 --memory 512M --api-socket {socket}",
         needs_vmmctl=True,
         dmesg=KERNEL_COMPLAINTS + r"|CPU(123|255): |found redistributor|GICv3: .*region",
         guest_script='''
             e2e_report boot
             e2e_onliner & op=$!
             echo "E2E ready"
             e2e_wait_state 0,123,255/0,123,255 600 || exit 1
             e2e_report grown
             echo "E2E grown-done"
             e2e_wait_state 0/0 600 || exit 1
             kill $op
             e2e_report shrunk
         ''',
         l1_script='''
             e2e_wait_socket 120 && e2e_wait_guest "E2E ready" 600 || exit 1
             e2e_ctl cpu add 255 || exit 1
             e2e_ctl cpu add 123 || exit 1
             e2e_wait_guest "E2E grown-done" 600 || exit 1
             e2e_ctl cpu remove 255 || exit 1
             e2e_ctl cpu remove 123 || exit 1
         ''',
         timeout=1200, vmm_timeout=1100,
         checks=[guest("boot.possible", "0-255"), guest("boot.online", "0"),
                 guest("grown.online", "0,123,255"), guest("grown.enabled", "0,123,255"),
                 guest("shrunk.online", "0"), guest("shrunk.enabled", "0"),
                 # MPIDR Aff1.Aff0 = 7.11 and 15.15; both found in the second region.
                 dmesg_has(r"CPU123: Booted secondary processor 0x000000070b"),
                 dmesg_has(r"CPU255: Booted secondary processor 0x0000000f0f"),
                 dmesg_has(r"CPU123: found redistributor 70b region 1:0x0000000010000000"),
                 dmesg_has(r"CPU255: found redistributor f0f region 1:0x0000000011080000"),
                 dmesg_lacks(KERNEL_COMPLAINTS), vmm_exit(0)]),
]

# perf needs a PMU: the guest finds one through the MADT GICC (ACPI) or the
# arm,armv8-pmuv3 node (device tree). The second run also has RAM above
# 4 GiB (a 33-bit guest physical address space, sized from --memory).
PMU_SCRIPT = '''
    for d in /sys/bus/event_source/devices/armv8_pmuv3*; do
        [ -d "$d" ] && e2e_kv pmu "${d##*/}"
    done
    e2e_kv mem-mib $(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
'''


def mem_mib_between(lo, hi, run):
    def check(res):
        r = res.runs[run] if run < len(res.runs) else None
        v = r.g("mem-mib") if r else None
        if v is None or not v.isdigit() or not lo <= int(v) <= hi:
            return f"run {run}: guest MemTotal {v} MiB, expected {lo}..{hi}"
    return check


CASES += [
    Case("pmu_acpi_and_fdt",
         runs=["--boot acpi --cpus boot=2,max=4 --memory 512M",
               "--boot fdt --cpus boot=2 --memory 4G"],
         dmesg=r"hw perfevents|PMU|pmu|FW_BUG|WARNING:",
         guest_script=PMU_SCRIPT,
         timeout=600, vmm_timeout=280,
         checks=[guest("pmu", re.compile(r"armv8_pmuv3(_0)?")),
                 dmesg_has(r"hw perfevents: enabled with armv8_pmuv3"),
                 dmesg_lacks(r"FW_BUG|WARNING:|PMU.*(failed|fail to)"),
                 mem_mib_between(400, 512, 0), mem_mib_between(3600, 4096, 1),
                 vmm_exit(0)]),
]
