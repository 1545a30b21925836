"""Assertion helpers for cases. Each returns a Check: f(result) -> None or a
failure string. `run=None` means "every vmm run of the case"."""
import re

from .case import CheckFailed


def _runs(res, run):
    if run is None:
        return res.runs
    if run >= len(res.runs):
        raise CheckFailed(f"run {run} did not start")
    return [res.runs[run]]


def guest(key, expected, run=None):
    """The guest's last `E2E key=value` equals expected (str) or matches it
    (compiled regex)."""
    def check(res):
        for r in _runs(res, run):
            got = r.g(key)
            ok = (expected.fullmatch(got) if hasattr(expected, "fullmatch") and got is not None
                  else got == str(expected))
            if not ok:
                want = expected.pattern if hasattr(expected, "pattern") else expected
                return f"run {r.index}: guest {key}={got!r}, expected {want!r}"
    check.__name__ = f"guest({key}={expected})"
    return check


def guests(**kv):
    """guests(nproc=2, online="0-1") == [guest("nproc", 2), guest("online", "0-1")]"""
    return [guest(k.replace("_", "-"), v) for k, v in kv.items()]


def l1(key, expected, run=None):
    def check(res):
        for r in _runs(res, run):
            got = r.l(key)
            if got != str(expected):
                return f"run {r.index}: L1 {key}={got!r}, expected {expected!r}"
    return check


def vmm_exit(code, run=None):
    def check(res):
        for r in _runs(res, run):
            if r.vmm_exit != code:
                return f"run {r.index}: vmm exit status {r.vmm_exit}, expected {code}"
    return check


def dmesg_has(pattern, run=None):
    """Some E2E-DMESG line matches the regex (needs Case.dmesg to cover it)."""
    rx = re.compile(pattern)

    def check(res):
        for r in _runs(res, run):
            if not any(rx.search(line) for line in r.dmesg):
                return f"run {r.index}: no guest dmesg line matches {pattern!r}"
    return check


def dmesg_lacks(pattern, run=None):
    rx = re.compile(pattern)

    def check(res):
        for r in _runs(res, run):
            bad = [line for line in r.dmesg if rx.search(line)]
            if bad:
                return f"run {r.index}: guest dmesg matches {pattern!r}: {bad[0]!r}"
    return check


def dmesg_count(pattern, n, run=None):
    rx = re.compile(pattern)

    def check(res):
        for r in _runs(res, run):
            c = sum(1 for line in r.dmesg if rx.search(line))
            if c != n:
                return f"run {r.index}: {c} guest dmesg lines match {pattern!r}, expected {n}"
    return check


def log_has(pattern, run=None):
    """Some serial line (of the run, or of the whole log) matches the regex."""
    rx = re.compile(pattern)

    def check(res):
        lines = res.lines if run is None else _runs(res, run)[0].lines
        if not any(rx.search(t) for _, t in lines):
            return f"no serial line matches {pattern!r}"
    return check


def log_lacks(pattern, run=None):
    rx = re.compile(pattern)

    def check(res):
        lines = res.lines if run is None else _runs(res, run)[0].lines
        for _, t in lines:
            if rx.search(t):
                return f"serial line matches {pattern!r}: {t!r}"
    return check


def userspace_within(seconds, run=None):
    """Guest userspace reached at most `seconds` after vmm start (host clock;
    emulation is noisy, so use generous limits)."""
    def check(res):
        for r in _runs(res, run):
            t = r.t_userspace
            if t is None or t > seconds:
                return f"run {r.index}: guest userspace after {t}s, limit {seconds}s"
    return check
