"""The pass/fail tally the command-line checks share: each check counts, a
failed one keeps its message, and finish() prints them with the closing
'N passed, N failed' line and exits 1 if any failed."""
import sys

failures = []
total = 0


def fail_unless(ok, message):
    global total
    total += 1
    if not ok:
        failures.append(message)


def finish():
    for f in failures:
        print("FAIL", f)
    print(f"{total - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)
