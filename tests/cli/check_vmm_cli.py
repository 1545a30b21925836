#!/usr/bin/env python3
"""The vmm binary as a user meets it on a host: --help, --version, and bad
input rejected with one clear line on stderr and exit status 2, before any
VM exists (this host needs no KVM for that)."""
import os
import subprocess
import sys
import tempfile

VMM = sys.argv[1]
failures = []
total = 0


def fail_unless(ok, message):
    global total
    total += 1
    if not ok:
        failures.append(message)


def run(*args):
    p = subprocess.run([VMM, *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def expect_usage_error(args, fragment):
    rc, out, err = run(*args)
    lines = err.strip().splitlines()
    fail_unless(rc == 2 and len(lines) == 1 and fragment in lines[0] and lines[0].startswith("vmm: "),
                f"{args}: want exit 2 and one line containing {fragment!r}, got {rc} {err!r}")


with tempfile.TemporaryDirectory() as tmp:
    not_image = os.path.join(tmp, "notes.txt")
    with open(not_image, "w") as f:
        f.write("not a kernel\n" * 10)
    image = os.path.join(tmp, "Image")
    with open(image, "wb") as f:
        hdr = bytearray(64)
        hdr[16:24] = (1 << 20).to_bytes(8, "little")     # image_size
        hdr[56:60] = b"ARM\x64"
        f.write(hdr)

    rc, out, err = run("--help")
    fail_unless(rc == 0 and "--cpus boot=N" in out and "Exit status" in out, f"--help: {rc} {out[:80]!r}")
    rc, out, err = run("--version")
    fail_unless(rc == 0 and out.startswith("vmm "), f"--version: {rc} {out!r}")

    expect_usage_error(["--cpus", "boot=3,max=2", "--kernel", image], "boot (3) is larger than max (2)")
    expect_usage_error(["--cpus", "boot=0,max=2", "--kernel", image], "boot must be at least 1")
    expect_usage_error(["--cpus", "boot=1,max=4096", "--kernel", image], "beyond the limit")
    expect_usage_error(["--cpus", "2"], "--kernel is required")
    expect_usage_error(["--kernel", os.path.join(tmp, "missing")], "No such file")
    expect_usage_error(["--kernel", not_image], "not an arm64 Linux Image")
    expect_usage_error(["--kernel", image, "--initrd", os.path.join(tmp, "nope")], "cannot read initrd")
    expect_usage_error(["--kernel", image, "--memory", "lots"], "is not a size")
    expect_usage_error(["--kernel", image, "--memory", "1M"], "between 64M and 1T")
    expect_usage_error(["--kernel", image, "--boot", "bios"], "expected acpi or fdt")
    expect_usage_error(["--kernel", image, "--console", "tty"], "expected stdio, file=PATH or none")
    expect_usage_error(["--kernel", image, "--smp", "4"], "unknown option '--smp'")

    # A good command line gets past every check and fails only for want of KVM.
    rc, out, err = run("--kernel", image, "--cpus", "boot=1,max=4")
    fail_unless(rc == 1 and "KVM" in err,
                f"good args on a host without arm64 KVM: want exit 1 naming KVM, got {rc} {err!r}")

    # --dump-acpi works anywhere.
    d = os.path.join(tmp, "tables")
    rc, out, err = run("--dump-acpi", d, "--cpus", "boot=2,max=8")
    got = sorted(os.listdir(d)) if os.path.isdir(d) else []
    want = ["APIC.dat", "DSDT.dat", "FACP.dat", "GTDT.dat", "RSDP.dat", "SPCR.dat", "XSDT.dat"]
    fail_unless(rc == 0 and got == want, f"--dump-acpi: {rc} {err!r} {got}")

    # --rng: a bad value or an unreadable entropy source is a usage error.
    expect_usage_error(["--kernel", image, "--rng", "maybe"], "--rng: expected src=PATH, on or off")
    expect_usage_error(["--kernel", image, "--rng", "src=" + os.path.join(tmp, "no-rng")],
                       "--rng: cannot read")
    rc, out, err = run("--kernel", image, "--rng", "off")
    fail_unless(rc == 1 and "KVM" in err, f"--rng off: want exit 1 naming KVM, got {rc} {err!r}")

for f in failures:
    print("FAIL", f)
print(f"{total - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
