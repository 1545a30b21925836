"""The end-to-end cases. A case is one emulated boot: vmm args, an optional
guest (L2) script, an optional L1 script, and checks. See README.md."""
from bed import Case
from bed.checks import guest, guests, vmm_exit  # noqa: F401  (dmesg_has, dmesg_lacks, ...)

CASES = [
    Case("fdt_boot2_max4",
         "--boot fdt --cpus boot=2,max=4 --memory 512M",
         checks=[*guests(nproc=2, online="0-1"), vmm_exit(0)]),
    # Also the poweroff -> exit status 0 case (every case checks vmm-exit=0).
    Case("fdt_boot1",
         "--boot fdt --cpus boot=1 --memory 512M",
         checks=[*guests(nproc=1, online="0"), vmm_exit(0)]),
]

# How the lead's next cases will look (kept here as a template):
#
# from bed.checks import dmesg_has, dmesg_lacks
# Case("acpi_boot2_max8",
#      "--boot acpi --cpus boot=2,max=8 --memory 512M",
#      dmesg=r"ACPI|FW_BUG|WARNING:",
#      checks=[*guests(possible="0-7", online="0-1", enabled="0-1"),
#              dmesg_has(r"ACPI: "), dmesg_lacks(r"FW_BUG|WARNING:")]),
#
# Case("acpi_hotplug_add1",
#      "--boot acpi --cpus boot=1,max=4 --memory 512M --api-socket {socket}",
#      needs_vmmctl=True,
#      guest_script='''
#          echo "E2E ready"
#          e2e_wait_cpu 1 60 && e2e_online 1
#          e2e_report after
#      ''',
#      l1_script='''
#          e2e_wait_socket 30 && e2e_wait_guest "E2E ready" 120 && e2e_ctl resize --cpus 2
#      ''',
#      checks=[guest("online-cpu1", 0), guest("after.online", "0-1")]),
