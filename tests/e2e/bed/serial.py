"""Parse the timestamped serial log into per-run events.

Line grammar (after the optional kernel/timestamp noise before it):
  E2E <key>=<value>      guest (L2) key/value; the value is the rest of the line
  E2E <marker> [text]    guest marker, e.g. "E2E userspace", "E2E done uptime=..."
  E2E-DMESG <line>       a guest kernel log line dumped on request
  E2E-L1 ...             the same two forms, from the L1 /init
Terminal escape sequences (CSI, e.g. the screen clears edk2 prints) are
ignored when matching.
All E2E-L1 events go to Result.l1; those inside a run also to RunResult.l1.
A run spans from "E2E-L1 vmm-start" to its "E2E-L1 vmm-elapsed=..." (inclusive;
vmm-exit comes just before it).
"""
import re

from .case import Event, Result, RunResult

_RX = re.compile(r"(?:^|(?<=[\s\]>]))(E2E(?:-L1|-DMESG)?) (.*)$")
_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def split_event(rest):
    """'nproc=2' -> ('nproc', '2'); 'done uptime=1.0' -> ('done', 'uptime=1.0')"""
    rest = rest.strip()
    head, _, tail = rest.partition(" ")
    if "=" in head:
        k, _, v = rest.partition("=")
        return k, v.strip()
    return head, tail.strip()


def parse_into(res: Result):
    cur = None
    for t, text in res.lines:
        if cur is not None:
            cur.lines.append((t, text))
        m = _RX.search(_CSI.sub("", text) if "\x1b" in text else text)
        if not m:
            continue
        kind, rest = m.group(1), m.group(2)
        if kind == "E2E-DMESG":
            if cur is not None:
                cur.dmesg.append(rest.rstrip())
            continue
        key, val = split_event(rest)
        ev = Event(t, key, val)
        if kind == "E2E-L1":
            res.l1.setdefault(key, []).append(ev)   # every L1 event, in order
            if key == "vmm-start":
                cur = RunResult(index=len(res.runs), t_start=t)
                cur.lines.append((t, text))
                res.runs.append(cur)
            if cur is not None:
                cur.l1.setdefault(key, []).append(ev)
            if key == "vmm-elapsed":
                cur = None
        elif cur is not None:
            cur.guest.setdefault(key, []).append(ev)
    return res
