"""Untrusted input and output nobody reads: cases for the console path."""
from bed import Case
from bed.case import Run
from bed.checks import l1, log_has, log_lacks, vmm_exit

# vmm's stdout goes to a FIFO that is held open, filled up beforehand and
# never read, so the guest's console output has nowhere to go from its first
# byte. The guest boots and floods its console; vCPUs must not block: pause
# answers at once, SIGTERM ends the run with status 0 (the last flush waits
# 1 s), and vmm logs the guest output it dropped.
FLOOD_PROGRAM = ("sh", "-c", "mkfifo /run/out && exec 7<>/run/out && "
                 "{ timeout 5 head -c 1048576 /dev/zero >&7; "
                 'exec /bin/vmm "$@" >/run/out; }', "vmm")

CASES = [
    Case("console_unread_flood",
         runs=[Run("--cpus boot=2,max=2 --memory 512M --api-socket {socket}", program=FLOOD_PROGRAM)],
         needs_vmmctl=True, boots=False, tap=True,
         guest_script='''
             while :; do echo "E2E flood 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ"; done
         ''',
         l1_script='''
             e2e_wait_socket 30 || exit 1
             sleep 20    # the guest boots (its output goes nowhere) and floods
             t0=$(e2e_up)
             e2e_ctl pause; echo "E2E-L1 pause-rc=$?"
             echo "E2E-L1 pause-fast=$(awk "BEGIN{print ($(e2e_up) - $t0 < 10) ? \\"yes\\" : \\"no\\"}")"
             vmmctl --socket "$VMM_SOCKET" info | grep -q "state: *paused" && echo "E2E-L1 info-paused=yes"
             e2e_ctl resume; echo "E2E-L1 resume-rc=$?"
             sleep 2
             kill -TERM "$(pidof vmm)"
         ''',
         timeout=240, vmm_timeout=150,
         checks=[l1("pause-rc", 0), l1("pause-fast", "yes"), l1("info-paused", "yes"),
                 l1("resume-rc", 0),
                 log_has(r"vmm: \[.*\] console: \d+ bytes of guest output dropped"),
                 log_has(r"vmm: \[.*\] stopped by SIGTERM"),
                 log_lacks(r"E2E flood"),   # nothing reached the tapped output
                 vmm_exit(0)]),
]
