"""Every channel at once: one nested guest with a virtio-blk disk,
virtio-rng, hybrid vsock, virtio-net on a tap and virtio-fs (virtiofsd in
L1), all configured together, with traffic on every one of them at the same
time while its vCPUs come and go.

Each channel runs in rounds, in a loop, on both sides: vsock echo
connections both ways (L1 dials CONNECT 1024, the guest dials host port
2000, two loops each), ping both ways, a TCP stream each way (busybox nc),
files written through the virtiofs share by each side and read (and
deleted) by the other, 1 MiB written to the disk and read back, 1 KiB read
from the hwrng. Each round's result (a checksum, "ok") is a line of
/tmp/r.<channel>; at the end each side prints "res.<channel>=<rounds>
<distinct results>" and the checks want exactly one result, the right one:
the source's checksum printed by the side that sent the bytes.

ACPI: vCPUs go 1 -> 4 -> 2 -> 4 over the API (vmmctl cpu resize) with the
guest onlining what arrives. Before each step both sides wait until every
one of their channels finished a round in the current state. Device tree:
vCPU hotplug is ACPI-only (docs/hotplug.md), so the guest boots 2 vCPUs and
takes CPU 1 offline and back itself (PSCI CPU_OFF/CPU_ON) meanwhile.

The pieces come from the channels' own modules: guest drivers and set-up
snippets, the virtiofsd wrapper, the tap, vsock-tool, the disk image."""
import re

import blkimg
import cases_blk as blk
import cases_fs as fs
import cases_net as net
import cases_virtio as virtio
import cases_vsock as vsock
from bed import Case
from bed.case import Run
from bed.checks import dmesg_lacks, guest, l1, log_has, log_lacks, vmm_exit

BLOB_KB = 256
MODULES = (*blk.MODS, *virtio.RNG_MODULES, *vsock.VSOCK_MODULES, *net.NET_MODULES)
COMPLAINTS = blk.COMPLAINTS + r"|BUG:|FW_BUG|Eject incomplete|virtio.*(error|fail|timeout)"

# Both levels (busybox sh). chan_init NAME... makes the channels' files;
# chan_loop NAME FUNC calls FUNC round after round
# until /tmp/stop exists: a round whose FUNC succeeds appends its output to
# /tmp/r.NAME; one that fails had nothing to do yet (a listener between two
# connections, no file waiting) and is retried (counted in /tmp/n.NAME).
LIB = r'''
md5() { md5sum | cut -d' ' -f1; }
chan_rounds() { echo $(( $(wc -l </tmp/r.$1) )); }
chan_init() { for c; do : >/tmp/r.$c; : >/tmp/n.$c; done; }
chan_loop() {
    while [ ! -e /tmp/stop ]; do
        if v=$($2); then echo "$v" >>/tmp/r.$1; else echo >>/tmp/n.$1; fi
        usleep 300000
    done
}
# chan_progress SECS NAME...: wait until each channel finished a round it
# started after now (two more results).
chan_progress() {
    t=$1; shift
    for c; do echo $(( $(chan_rounds $c) + 2 )) >/tmp/w.$c; done
    for c; do
        n=$((t * 5))
        while [ "$(chan_rounds $c)" -lt "$(cat /tmp/w.$c)" ]; do
            n=$((n - 1)); [ "$n" -gt 0 ] || { say "error=no-progress-$c"; return 1; }
            usleep 200000
        done
    done
}
chan_tick() {
    while [ ! -e /tmp/stop ]; do
        sleep 30
        l=; for c; do l="$l $c:$(chan_rounds $c)/$(( $(wc -l </tmp/n.$c) ))"; done
        say "tick=$(cut -d' ' -f1 /proc/uptime)$l"
    done
}
chan_report() {
    for c; do
        say "res.$c=$(chan_rounds $c) $(sort -u /tmp/r.$c | tr '\n' ' ' | sed 's/ $//')"
        say "retries.$c=$(( $(wc -l </tmp/n.$c) ))"
    done
}
'''

G_CHANS = "g2h-a g2h-b ping-l1 net-up fs-put fs-get blk rng"
L1_CHANS = "h2g-a h2g-b ping-l2 net-down net-up fs-put fs-get"

# The guest: every driver (blk's prelude loads them all and makes /tmp/w),
# each channel up, servers for L1's connections, then its own loops.
# HOTPLUG=1: the onliner onlines what L1 adds; else CPU 1 goes offline and
# back by the guest's own hand.
GUEST = (blk.GUEST_PRELUDE + vsock.VSOCK_UP + net.ETH0_UP + fs.FS_MOUNT + virtio.RNG_UP + LIB + f'''
    say() {{ echo "E2E $*"; }}
    dd if=/dev/urandom of=/tmp/blob bs=1k count={BLOB_KB} 2>/dev/null
    say "blob-md5=$(md5 </tmp/blob)"
    g2h() {{ vsock-tool vpipe 2 2000 </tmp/blob | md5; }}
    ping_l1() {{ ping -c 1 -W 30 {net.L1_IP} >/dev/null && echo ok || echo lost; }}
    fs_put() {{
        [ "$(ls /mnt | grep -c '^g-')" -lt 3 ] || return 1
        f=g-$(chan_rounds fs-put)
        cp /tmp/blob /mnt/.tmp-$f && mv /mnt/.tmp-$f /mnt/$f && echo put || echo put-failed
    }}
    fs_get() {{ set -- /mnt/h-*; [ -e "$1" ] || return 1; v=$(md5 <"$1") && rm "$1" && echo "$v"; }}
    blk_rw() {{
        dd if=/tmp/w of=/dev/vda bs=65536 seek=16 oflag=direct 2>/dev/null || {{ echo write-failed; return 0; }}
        dd if=/dev/vda bs=65536 skip=16 count=16 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1
    }}
    rng() {{ head -c 1024 /dev/hwrng | wc -c; }}

    # L1's TCP streams: 5000 serves the blob (guest -> L1), 5001 receives
    # (L1 -> guest; stdin a FIFO held open, see cases_net).
    mkfifo /tmp/hold && exec 3<>/tmp/hold
    ( while :; do nc -l -p 5000 </tmp/blob || usleep 200000; done ) & down=$!
    chan_init {G_CHANS}
    ( while :; do nc -l -p 5001 <&3 >/tmp/up && md5 </tmp/up >>/tmp/r.net-up || usleep 200000; done ) & up=$!
    chan_loop g2h-a g2h & p1=$!
    chan_loop g2h-b g2h & p2=$!
    chan_loop ping-l1 ping_l1 & p3=$!
    chan_loop fs-put fs_put & p4=$!
    chan_loop fs-get fs_get & p5=$!
    chan_loop blk blk_rw & p6=$!
    chan_loop rng rng & p7=$!
    echo "E2E chan-ready"
    chan_tick {G_CHANS} &
    op=
    [ "$HOTPLUG" = 1 ] && {{ e2e_onliner & op=$!; }}
    chan_progress 120 {G_CHANS} || exit 1
    say "step0=$(e2e_cpu_state)"
    if [ "$HOTPLUG" = 1 ]; then
        for s in 1:0-3 2:0-1 3:0-3; do
            e2e_wait_state ${{s#*:}}/${{s#*:}} 300 || exit 1
            chan_progress 120 {G_CHANS} || exit 1
            say "step${{s%%:*}}=$(e2e_cpu_state)"
        done
    else
        e2e_online 1 0 || exit 1
        chan_progress 120 {G_CHANS} || exit 1
        say "step1=$(e2e_cpu_state)"
        e2e_online 1 1 || exit 1
        chan_progress 120 {G_CHANS} || exit 1
        say "step2=$(e2e_cpu_state)"
    fi
    # L1 checks its own channels in this last state too, then says so.
    echo "E2E steps-done"
    e2e_wait_path /mnt/l1-final 300 || exit 1
    touch /tmp/stop
    wait $p1 $p2 $p3 $p4 $p5 $p6 $p7
    vsock-tool vwait 1099 >/tmp/l1-done & w=$!
    echo "E2E traffic-done"
    wait $w
    # L1 finished too and says how many streams and files it sent: take
    # the last ones in.
    sent=$(sed -n 's/.*net-up=\\([0-9]*\\).*/\\1/p' /tmp/l1-done)
    put=$(sed -n 's/.*fs-put=\\([0-9]*\\).*/\\1/p' /tmp/l1-done)
    n=300
    while [ "$n" -gt 0 ] && {{ [ "$(chan_rounds net-up)" -lt "${{sent:-0}}" ] ||
                              [ "$(chan_rounds fs-get)" -lt "${{put:-0}}" ]; }}; do
        v=$(fs_get) && echo "$v" >>/tmp/r.fs-get
        usleep 100000; n=$((n - 1))
    done
    kill $down $up $op 2>/dev/null
    chan_report {G_CHANS}
    e2e_report final
''')

# L1: the tap up, vsock's PATH_2000 echo server, then its own loops once
# the guest is ready; HOTPLUG=1: the resizes, one per guest step.
L1 = (net.TAP_UP + LIB + f'''
    say() {{ printf '\\nE2E-L1 %s\\n' "$*"; }}   # a line of its own on the shared console
    vsock-tool ulisten {vsock.SOCK}_2000 &
    dd if=/dev/urandom of=/tmp/blob bs=1k count={BLOB_KB} 2>/dev/null
    mkfifo /tmp/hold && exec 3<>/tmp/hold
    S=/srv/share
    h2g() {{ vsock-tool hpipe {vsock.SOCK} 1024 </tmp/blob | md5; }}
    ping_l2() {{ ping -c 1 -W 30 {net.L2_IP} >/dev/null && echo ok || echo lost; }}
    net_down() {{ nc {net.L2_IP} 5000 <&3 >/tmp/down 2>/dev/null || return 1; md5 </tmp/down; }}
    net_up() {{ nc {net.L2_IP} 5001 </tmp/blob 2>/dev/null || return 1; echo sent; }}
    fs_put() {{
        [ "$(ls $S | grep -c '^h-')" -lt 3 ] || return 1
        f=h-$(chan_rounds fs-put)
        cp /tmp/blob $S/.tmp-$f && mv $S/.tmp-$f $S/$f && echo put || echo put-failed
    }}
    fs_get() {{ set -- $S/g-*; [ -e "$1" ] || return 1; v=$(md5 <"$1") && rm "$1" && echo "$v"; }}
    e2e_wait_guest "E2E chan-ready" 300 || exit 1
    say "blob-md5=$(md5 </tmp/blob)"
    chan_init {L1_CHANS}
    chan_loop h2g-a h2g & p1=$!
    chan_loop h2g-b h2g & p2=$!
    chan_loop ping-l2 ping_l2 & p3=$!
    chan_loop net-down net_down & p4=$!
    chan_loop net-up net_up & p5=$!
    chan_loop fs-put fs_put & p6=$!
    chan_loop fs-get fs_get & p7=$!
    chan_tick {L1_CHANS} &
    chan_progress 120 {L1_CHANS} || exit 1
    if [ "$HOTPLUG" = 1 ]; then
        e2e_wait_socket 30 && e2e_wait_guest "E2E step0=" 300 || exit 1
        for s in 1:4 2:2 3:4; do
            vmmctl --socket "$VMM_SOCKET" --timeout 90000 cpu resize ${{s#*:}} >>/tmp/ctl.log 2>&1
            say "step${{s%%:*}}-resize=${{s#*:}} rc=$?"
            e2e_wait_guest "E2E step${{s%%:*}}=" 300 || exit 1
            [ "${{s%%:*}}" = 3 ] || chan_progress 120 {L1_CHANS} || exit 1
        done
    fi
    e2e_wait_guest "E2E steps-done" 300 || exit 1
    chan_progress 120 {L1_CHANS} || exit 1
    touch $S/l1-final
    e2e_wait_guest "E2E traffic-done" 300 || exit 1
    touch /tmp/stop
    wait $p1 $p2 $p3 $p4 $p5 $p6 $p7
    while v=$(fs_get); do echo "$v" >>/tmp/r.fs-get; done
    chan_report {L1_CHANS}
    vsock-tool hconnect {vsock.SOCK} 1099 "net-up=$(chan_rounds net-up) fs-put=$(chan_rounds fs-put)" >/dev/null
''' + blk.l1_hash_after_exit("zero"))


def _res(run, side, chan):
    v = (run.g if side == "guest" else run.l)(f"res.{chan}")
    if not v:
        return None, []
    n, *vals = v.split()
    return int(n), vals


def rounds(side, chan, want):
    """SIDE's channel CHAN did rounds, every one with result WANT: a string,
    or (side, key) for a value the other side printed (its blob's checksum)."""
    def check(res):
        for r in res.runs:
            w = want if isinstance(want, str) else (r.g if want[0] == "guest" else r.l)(want[1])
            n, vals = _res(r, side, chan)
            if not n or not w or vals != [w]:
                return f"{side} {chan}: {n} rounds with results {vals}, expected only {w!r}"
    check.__name__ = f"rounds({side}, {chan})"
    return check


def same_rounds(a, b):
    """As many rounds arrived on one side (a = (side, chan)) as the other sent (b)."""
    def check(res):
        for r in res.runs:
            na, nb = _res(r, *a)[0], _res(r, *b)[0]
            if na != nb:
                return f"{a[0]} {a[1]} counted {na} rounds, {b[0]} {b[1]} {nb}"
    check.__name__ = f"same_rounds({a}, {b})"
    return check


def every_channel_reported(res):
    """Both sides reported every channel (printed: each one's rounds)."""
    for r in res.runs:
        g = {c: _res(r, "guest", c)[0] for c in G_CHANS.split()}
        h = {c: _res(r, "l1", c)[0] for c in L1_CHANS.split()}
        print(f"    rounds of {BLOB_KB} KiB: guest "
              f"{' '.join(f'{c}={n}' for c, n in g.items())}; L1 {' '.join(f'{c}={n}' for c, n in h.items())}")
        missing = [f"guest {c}" for c, n in g.items() if n is None] + \
                  [f"L1 {c}" for c, n in h.items() if n is None]
        if missing:
            return f"run {r.index}: no result for {', '.join(missing)}"


# Each device's exit line: "<name>@<base>: N queue notifications ... M failures".
DEVICE_LINE = re.compile(r"(virtio-\w+)@0xa000[0-8]00: \d+ queue notifications on its I/O thread, "
                         r"(\d+) on vCPU threads .*, (\d+) failures")


def five_devices_clean(res):
    """All five devices logged their counters: no failure, no queue served on a vCPU thread."""
    for r in res.runs:
        seen = [m.groups() for _, t in r.lines for m in [DEVICE_LINE.search(t)] if m]
        names = sorted(n for n, _, _ in seen)
        if names != ["virtio-blk", "virtio-fs", "virtio-net", "virtio-rng", "virtio-vsock"]:
            return f"run {r.index}: device counters logged for {names}"
        bad = [f"{n}: {v} on vCPU threads, {f} failures" for n, v, f in seen if v != "0" or f != "0"]
        if bad:
            return f"run {r.index}: {'; '.join(bad)}"


CHECKS = [
    rounds("guest", "g2h-a", ("guest", "blob-md5")), rounds("guest", "g2h-b", ("guest", "blob-md5")),
    rounds("l1", "h2g-a", ("l1", "blob-md5")), rounds("l1", "h2g-b", ("l1", "blob-md5")),
    rounds("guest", "ping-l1", "ok"), rounds("l1", "ping-l2", "ok"),
    rounds("l1", "net-down", ("guest", "blob-md5")),          # guest -> L1 TCP
    rounds("l1", "net-up", "sent"), rounds("guest", "net-up", ("l1", "blob-md5")),   # L1 -> guest
    same_rounds(("guest", "net-up"), ("l1", "net-up")),
    rounds("guest", "fs-put", "put"), rounds("l1", "fs-get", ("guest", "blob-md5")),
    same_rounds(("l1", "fs-get"), ("guest", "fs-put")),
    rounds("l1", "fs-put", "put"), rounds("guest", "fs-get", ("l1", "blob-md5")),
    same_rounds(("guest", "fs-get"), ("l1", "fs-put")),
    rounds("guest", "blk", blkimg.sha256(blk.WRITE_BYTES)),
    blk.l1_after("sha-zero", blkimg.sha256(blk.WRITTEN)),   # the image file after vmm exited
    rounds("guest", "rng", "1024"),
    every_channel_reported,
    guest("mount-rc", "0"), guest("cid", "3"), l1("virtiofsd", "up"),
    # No device failed (a vhost-user backend lost is one), none served a
    # queue on a vCPU thread.
    log_lacks(r"device needs reset|vhost-user backend .* closed"),
    five_devices_clean,
    log_has(r"virtio-blk@0xa000000: [1-9]\d* queue notifications"),
    log_has(r"virtio-rng@0xa000200: [1-9]\d* queue notifications"),
    log_has(r"virtio-vsock@0xa000400: [1-9]\d* host and [1-9]\d* guest connections, .* "
            r"0 credit violations"),
    log_has(r"virtio-net@0xa000600: rx [1-9]\d* packets [1-9]\d{6,} bytes 0 dropped, "
            r"tx [1-9]\d* packets [1-9]\d{6,} bytes"),
    # virtio-fs queues and completions go between the guest and virtiofsd without vmm.
    log_has(r"virtio-fs@0xa000800: 0 queue notifications on its I/O thread, 0 on vCPU threads "
            r"\(ioeventfd on\), 0 interrupts, \d+ resets, 0 failures, 0 backend calls relayed "
            r"\(call irqfds on\)"),
    dmesg_lacks(COMPLAINTS), vmm_exit(0),
]

DEVICES = (f"--memory size=512M,shared=on --disk path=/blk/zero.img {vsock.VSOCK_ARGS} "
           f"--net tap={net.TAP},mac={net.MAC} --fs tag=share,socket=/run/virtiofsd.sock")


def channels_case(name, cpus, hotplug, checks):
    return Case(name,
                runs=[Run(f"{cpus} {DEVICES} --api-socket {{socket}}", program=fs.PROGRAM)],
                guest_modules=MODULES, l1_modules=("tun",), needs_vmmctl=True,
                l1_files=blkimg.LazyFiles(lambda: {**fs.L1_FILES, **vsock.TOOL_FILES,
                                                   "/blk/zero.img": blkimg.zero_image()}),
                l2_files=vsock.TOOL_FILES,
                guest_script=f"HOTPLUG={hotplug}\n" + GUEST,
                l1_script=f"HOTPLUG={hotplug}\n" + L1,
                dmesg=COMPLAINTS, timeout=600, vmm_timeout=540,
                checks=[*CHECKS, *checks])


CASES = [
    channels_case("channels_acpi_hotplug", "--boot acpi --cpus boot=1,max=4", 1,
                  [guest("step0", "0/0"), guest("step1", "0-3/0-3"), guest("step2", "0-1/0-1"),
                   guest("step3", "0-3/0-3"), guest("final.online", "0-3"),
                   l1("step1-resize", "4 rc=0"), l1("step2-resize", "2 rc=0"),
                   l1("step3-resize", "4 rc=0")]),
    # vCPU hotplug is ACPI-only: the guest takes CPU 1 offline and back itself.
    channels_case("channels_fdt", "--boot fdt --cpus boot=2", 0,
                  [guest("step0", re.compile(r"0-1/.*")), guest("offline-cpu1", "0"),
                   guest("step1", re.compile(r"0/.*")), guest("online-cpu1", "0"),
                   guest("step2", re.compile(r"0-1/.*")), guest("final.online", "0-1")]),
]
