"""The end-to-end cases. A case is one emulated boot: vmm args, an optional
guest (L2) script, an optional L1 script, and checks. See README.md."""
from bed import Case
from bed.checks import (dmesg_has, dmesg_lacks, guest, guests, l1,  # noqa: F401
                        log_has, log_lacks, vmm_exit)

# What must never appear in a guest's kernel log on our machine.
KERNEL_COMPLAINTS = (r"FW_BUG|WARNING:|redistributor.*inaccessible|Changing CPU present bit|"
                     r"Eject incomplete|failed to register hotplug|Call trace")

CASES = [
    Case("fdt_boot2_max4",
         "--boot fdt --cpus boot=2,max=4 --memory 512M",
         checks=[*guests(nproc=2, online="0-1"), vmm_exit(0)]),
    # Also the poweroff -> exit status 0 case (every case checks vmm-exit=0).
    Case("fdt_boot1",
         "--boot fdt --cpus boot=1 --memory 512M",
         checks=[*guests(nproc=1, online="0"), vmm_exit(0)]),
    # A guest reboot ends vmm with the documented status 3.
    Case("guest_reboot_exit3",
         "--cpus boot=1 --memory 512M",
         guest_script="reboot -f",
         boots=False, expect_exit=3,
         checks=[log_has(r"E2E userspace"),
                 log_has(r"guest requested a reset \(PSCI SYSTEM_RESET on vcpu0\)"),
                 vmm_exit(3)]),

    # Firmware-less ACPI: the tables describe 8 possible CPUs, 2 enabled;
    # the console comes from SPCR (no console= on the command line).
    Case("acpi_boot2_max8",
         "--cpus boot=2,max=8 --memory 512M",
         dmesg=r"ACPI|GIC|psci|efi|console|FW_BUG|WARNING|Call trace|redistributor|present bit",
         checks=[*guests(nproc=2, possible="0-7", online="0-1", enabled="0-1"),
                 dmesg_has(r"efi: EFI v2\.\d+ by vmm"),
                 dmesg_has(r"ACPI: APIC 0x"),
                 dmesg_has(r"psci: probing for conduit method from ACPI"),
                 dmesg_has(r"ACPI: SPCR: console: pl011,mmio32,0x9000000"),
                 dmesg_has(r"GICv3: CPU1: found redistributor 1"),
                 dmesg_lacks(KERNEL_COMPLAINTS),
                 log_lacks(r"console="),
                 vmm_exit(0)]),
]

# vCPU hotplug. The guest runs an "onliner" that onlines every CPU that
# appears, as udev or the Kata agent would; L1 drives vmmctl.
CASES += [
    Case("hotplug_resize_8_and_back",
         "--cpus boot=1,max=8 --memory 512M --api-socket {socket}",
         needs_vmmctl=True,
         dmesg=KERNEL_COMPLAINTS + r"|hot-added|hot-removed|Booted secondary",
         guest_script='''
             e2e_onliner & op=$!
             echo "E2E ready"
             e2e_wait_state 0-7/0-7 300 || exit 1
             e2e_report grown
             e2e_busy_all 2
             e2e_wait_state 0/0 800 || exit 1
             kill $op
             e2e_report shrunk
         ''',
         l1_script='''
             e2e_wait_socket 30 && e2e_wait_guest "E2E ready" 200 || exit 1
             vmmctl --socket "$VMM_SOCKET" events >/tmp/events & ev=$!
             e2e_ctl cpu list
             e2e_ctl cpu resize 8 || exit 1
             e2e_wait_guest "E2E busy-cpus=" 300 || exit 1
             e2e_ctl cpu list
             e2e_ctl cpu resize 1 || exit 1
             e2e_ctl cpu list
             kill $ev
             echo "E2E-L1 events-enabled=$(grep -c '^cpu.enabled' /tmp/events)"
             echo "E2E-L1 events-disabled=$(grep -c '^cpu.disabled' /tmp/events)"
             echo "E2E-L1 events-cpu7=$(grep -E '^cpu\.(enabled|online|offline|disabled) id=7$' /tmp/events |
                 cut -d' ' -f1 | tr '\n' ' ')"
         ''',
         timeout=900, vmm_timeout=860,
         checks=[guest("grown.nproc", 8), guest("grown.online", "0-7"),
                 guest("grown.enabled", "0-7"), guest("busy-cpus", 8),
                 guest("shrunk.nproc", 1), guest("shrunk.online", "0"),
                 guest("shrunk.enabled", "0"),
                 log_has(r"cpus: 1 -> 8"), log_has(r"cpus: 8 -> 1"),
                 l1("events-enabled", 7), l1("events-disabled", 7),
                 l1("events-cpu7", "cpu.enabled cpu.online cpu.offline cpu.disabled"),
                 dmesg_has(r"CPU7: Booted secondary"),
                 dmesg_lacks(KERNEL_COMPLAINTS),
                 vmm_exit(0)]),
]

# A CPU in the middle, a guest that offlines a CPU by itself, 20 add/remove
# cycles. CPU 6 is the sentinel: adding it tells the guest the scenario ended.
CASES += [
    Case("hotplug_middle_selfoffline_cycles",
         "--cpus boot=1,max=8 --memory 512M --api-socket {socket}",
         needs_vmmctl=True,
         dmesg=KERNEL_COMPLAINTS,
         guest_script='''
             e2e_onliner & op=$!
             echo "E2E ready"
             e2e_wait_state 0,2-3/0,2-3 300 || exit 1
             : >/tmp/hold-cpu3
             e2e_online 3 0 || exit 1
             echo "E2E self-offline=$(e2e_cpu_state)"
             e2e_wait_online 4 300 || exit 1
             rm /tmp/hold-cpu3
             e2e_wait_state 0,2-4/0,2-4 60 || exit 1
             echo "E2E self-online=ok"
             e2e_wait_online 6 600 || exit 1
             kill $op
             e2e_report final
         ''',
         l1_script='''
             e2e_wait_socket 30 && e2e_wait_guest "E2E ready" 200 || exit 1
             e2e_ctl cpu add 5 || exit 1
             e2e_wait_guest "E2E state=0,5/0,5" 60 || exit 1
             e2e_ctl cpu add 2 && e2e_ctl cpu add 3 || exit 1
             e2e_wait_guest "E2E state=0,2-3,5/0,2-3,5" 60 || exit 1
             e2e_ctl cpu remove 5 || exit 1
             e2e_wait_guest "E2E self-offline=" 120 || exit 1
             vmmctl --socket "$VMM_SOCKET" --json cpu list | tr -d ' \\n' |
                 grep -q '"id":3,[^}]*"enabled":true,[^}]*"online":false' &&
                 echo "E2E-L1 cpu3-offline-enabled=yes"
             e2e_ctl cpu add 4 || exit 1
             e2e_wait_guest "E2E self-online=ok" 120 || exit 1
             ok=0
             for i in $(seq 20); do
                 vmmctl --socket "$VMM_SOCKET" --timeout 90000 cpu add 7 >/dev/null &&
                     vmmctl --socket "$VMM_SOCKET" --timeout 90000 cpu remove 7 >/dev/null &&
                     ok=$((ok + 1))
             done
             echo "E2E-L1 cycles-ok=$ok"
             e2e_ctl cpu list
             e2e_ctl cpu add 6 || exit 1
         ''',
         timeout=900, vmm_timeout=860,
         checks=[guest("self-offline", "0,2/0,2-3"),
                 l1("cpu3-offline-enabled", "yes"),
                 l1("cycles-ok", 20),
                 guest("final.online", "0,2-4,6"), guest("final.enabled", "0,2-4,6"),
                 guest("final.nproc", 5),
                 dmesg_lacks(KERNEL_COMPLAINTS),
                 vmm_exit(0)]),
]

# vm.pause stops every vCPU (the guest's heartbeat stops), vm.resume restarts
# them, and SIGTERM ends vmm cleanly with status 0.
CASES += [
    Case("pause_resume_sigterm",
         "--cpus boot=2,max=4 --memory 512M --api-socket {socket}",
         needs_vmmctl=True, boots=False,
         guest_script='''
             echo "E2E ready"
             i=0
             while :; do i=$((i + 1)); echo "E2E beat=$i"; usleep 200000; done
         ''',
         l1_script='''
             beats() { grep -c "E2E beat=" /run/vmm.log; }
             e2e_wait_socket 30 && e2e_wait_guest "E2E beat=3" 200 || exit 1
             e2e_ctl pause || exit 1
             sleep 1; n1=$(beats); sleep 3; n2=$(beats)
             echo "E2E-L1 beats-while-paused=$((n2 - n1))"
             vmmctl --socket "$VMM_SOCKET" info | grep -q "state: *paused" && echo "E2E-L1 info-paused=yes"
             e2e_ctl pause; echo "E2E-L1 pause-again-rc=$?"
             e2e_ctl resume || exit 1
             sleep 3; n3=$(beats)
             [ "$n3" -gt "$n2" ] && echo "E2E-L1 beating-after-resume=yes"
             kill -TERM "$(pidof vmm)"
         ''',
         checks=[l1("beats-while-paused", 0), l1("info-paused", "yes"),
                 l1("pause-again-rc", 1), l1("beating-after-resume", "yes"),
                 log_has(r"vmm: \[.*\] stopped by SIGTERM"), vmm_exit(0)]),
]

# Bad input over the live socket gets the right JSON-RPC error and changes
# nothing; then 8 clients at once. The guest keeps running throughout.
CASES += [
    Case("api_bad_input_and_concurrent_clients",
         "--cpus boot=1,max=8 --memory 512M --api-socket {socket}",
         needs_vmmctl=True,
         dmesg=KERNEL_COMPLAINTS,
         guest_script='''
             e2e_onliner & op=$!
             echo "E2E ready"
             e2e_wait_state 0-7/0-7 300 || exit 1
             kill $op
             e2e_report final
         ''',
         l1_script=r'''
             e2e_wait_socket 30 && e2e_wait_guest "E2E ready" 200 || exit 1
             code() { sed -n 's/.*"code": *\(-[0-9]*\).*/\1/p'; }
             raw() { vmmctl --socket "$VMM_SOCKET" send "$1" | code; }
             rq() { echo "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\"${2:+,\"params\":$2}}"; }
             echo "E2E-L1 malformed=$(raw '{"jsonrpc":"2.0","id":1,"method":')"
             echo "E2E-L1 not-object=$(raw '[1,2]')"
             echo "E2E-L1 unknown-method=$(raw "$(rq cpu.explode)")"
             echo "E2E-L1 wrong-type=$(raw "$(rq cpu.add '{"id":"three"}')")"
             echo "E2E-L1 negative-id=$(raw "$(rq cpu.remove '{"id":-1}')")"
             echo "E2E-L1 add-8=$(raw "$(rq cpu.add '{"id":8}')")"
             echo "E2E-L1 remove-0=$(raw "$(rq cpu.remove '{"id":0}')")"
             echo "E2E-L1 remove-disabled=$(raw "$(rq cpu.remove '{"id":5}')")"
             echo "E2E-L1 resize-0=$(raw "$(rq cpu.resize '{"count":0}')")"
             echo "E2E-L1 oversized=$(raw "$(head -c 70000 /dev/zero | tr '\0' x)")"
             vmmctl --socket "$VMM_SOCKET" --json info | grep -q '"enabled_cpus":1,' &&
                 echo "E2E-L1 unchanged=yes"
             for i in 1 2 3 4 5 6 7 3; do
                 ( vmmctl --socket "$VMM_SOCKET" --timeout 90000 cpu add $i >/dev/null 2>&1
                   echo $? >/tmp/rc.$i.$$.$RANDOM ) &
             done
             wait
             echo "E2E-L1 clients-ok=$(cat /tmp/rc.* | grep -c '^0$')"
             echo "E2E-L1 clients-failed=$(cat /tmp/rc.* | grep -vc '^0$')"
             e2e_ctl cpu list
         ''',
         timeout=420, vmm_timeout=380,
         checks=[l1("malformed", -32700), l1("not-object", -32600),
                 l1("unknown-method", -32601), l1("wrong-type", -32602),
                 l1("negative-id", -32602), l1("add-8", -32001), l1("remove-0", -32002),
                 l1("remove-disabled", -32004), l1("resize-0", -32602),
                 l1("oversized", -32600), l1("unchanged", "yes"),
                 l1("clients-ok", 7), l1("clients-failed", 1),
                 guest("final.online", "0-7"), guest("final.enabled", "0-7"),
                 dmesg_lacks(KERNEL_COMPLAINTS), vmm_exit(0)]),
]

# Many possible vCPUs: ids past 15 carry Aff1 in their MPIDR, which the MADT,
# PSCI and KVM must agree on.
CASES += [
    Case("hotplug_max64_high_ids",
         "--cpus boot=2,max=64 --memory 512M --api-socket {socket}",
         needs_vmmctl=True,
         dmesg=KERNEL_COMPLAINTS + r"|CPU(17|63): Booted",
         guest_script='''
             e2e_onliner & op=$!
             echo "E2E ready"
             e2e_wait_state 0-1,17,63/0-1,17,63 300 || exit 1
             kill $op
             e2e_report final
         ''',
         l1_script='''
             e2e_wait_socket 30 && e2e_wait_guest "E2E ready" 200 || exit 1
             e2e_ctl cpu add 17 && e2e_ctl cpu add 63 || exit 1
             vmmctl --socket "$VMM_SOCKET" --json cpu list | tr -d ' \\n' |
                 grep -o '"id":17,"mpidr":[0-9]*' | sed 's/.*://; s/^/E2E-L1 mpidr17=/'
         ''',
         timeout=420, vmm_timeout=380,
         checks=[guests(possible="0-63", nproc=2)[0],
                 guest("final.online", "0-1,17,63"), guest("final.enabled", "0-1,17,63"),
                 l1("mpidr17", 0x101),
                 dmesg_has(r"CPU17: Booted secondary processor 0x0000000101"),
                 dmesg_lacks(KERNEL_COMPLAINTS), vmm_exit(0)]),
]

# A guest that does not handle the hotplug interrupt (its GED driver unbound):
# the remove times out, is cancelled, and the CPU stays enabled and online.
# Once the guest handles events again, the same remove goes through.
CASES += [
    Case("hotplug_remove_timeout",
         "--cpus boot=2,max=4 --memory 512M --api-socket {socket}",
         needs_vmmctl=True,
         dmesg=KERNEL_COMPLAINTS,
         guest_script='''
             ged=/sys/bus/platform/drivers/acpi-ged
             dev=$(basename $(ls -d $ged/ACPI0013:* | head -1))
             echo "$dev" >$ged/unbind || exit 1
             echo "E2E ged-unbound=$dev"
             sleep 20
             echo "$dev" >$ged/bind || exit 1
             echo "E2E ged-rebound"
             e2e_wait_state 0/0 300 || exit 1
             e2e_report final
         ''',
         l1_script='''
             e2e_wait_socket 30 && e2e_wait_guest "E2E ged-unbound" 200 || exit 1
             vmmctl --socket "$VMM_SOCKET" --timeout 3000 cpu remove 1 2>/tmp/err
             echo "E2E-L1 timeout-rc=$?"
             grep -q "did not complete" /tmp/err && echo "E2E-L1 timeout-message=yes"
             vmmctl --socket "$VMM_SOCKET" --json cpu list | tr -d ' \\n' |
                 grep -q '"id":1,[^}]*"enabled":true,"online":true,"pending":"none"' &&
                 echo "E2E-L1 after-timeout=enabled-online-none"
             e2e_wait_guest "E2E ged-rebound" 200 || exit 1
             e2e_ctl cpu remove 1 || exit 1
         ''',
         timeout=420, vmm_timeout=380,
         checks=[l1("timeout-rc", 1), l1("timeout-message", "yes"),
                 l1("after-timeout", "enabled-online-none"),
                 guest("final.online", "0"), guest("final.enabled", "0"),
                 log_has(r"removal of vcpu1 cancelled"),
                 dmesg_lacks(KERNEL_COMPLAINTS), vmm_exit(0)]),
]

# Each area keeps its cases in its own module, cases_<area>.py, defining CASES;
# they run after the ones above, in file-name order.
def _area_cases():
    import importlib
    from pathlib import Path
    out = []
    for p in sorted(Path(__file__).resolve().parent.glob("cases_*.py")):
        out += importlib.import_module(p.stem).CASES
    return out


CASES += _area_cases()
