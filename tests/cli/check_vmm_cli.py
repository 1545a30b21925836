#!/usr/bin/env python3
"""The vmm binary as a user meets it on a host: --help, --version, and bad
input rejected with one clear line on stderr and exit status 2, before any
VM exists (this host needs no KVM for that)."""
import os
import socket
import subprocess
import sys
import tempfile
import time

from tally import fail_unless, finish

VMM = sys.argv[1]


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

    crafted = os.path.join(tmp, "crafted")
    with open(crafted, "wb") as f:
        hdr = bytearray(64)
        hdr[8:16] = (0xffffffffffe00000).to_bytes(8, "little")   # text_offset
        hdr[16:24] = (2 << 20).to_bytes(8, "little")
        hdr[56:60] = b"ARM\x64"
        f.write(hdr)
    big_initrd = os.path.join(tmp, "initrd")
    with open(big_initrd, "wb") as f:
        f.truncate(600 << 20)

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
    # Payload that does not fit: named, status 2, before KVM is touched.
    expect_usage_error(["--kernel", crafted], f"kernel {crafted} does not fit")
    expect_usage_error(["--kernel", image, "--initrd", big_initrd], f"initrd {big_initrd} (600 MiB) does not fit")
    # Linux arm64 cuts the command line at 2047 bytes; ACPI boot prepends "efi=noruntime ".
    expect_usage_error(["--kernel", image, "--cmdline", "x" * 2034], "longer than the 2033")
    expect_usage_error(["--kernel", image, "--boot", "fdt", "--cmdline", "x" * 2048], "longer than the 2047")
    rc, out, err = run("--help")
    fail_unless("2033 bytes" in out, f"--help names the --cmdline limit: {out!r}")

    # A bad --api-socket is refused before any VM exists.
    expect_usage_error(["--kernel", image, "--api-socket", os.path.join(tmp, "nodir", "api.sock")],
                       "No such file or directory")
    expect_usage_error(["--kernel", image, "--api-socket", "/tmp/" + "s" * 120], "too long")
    expect_usage_error(["--kernel", image, "--api-socket", not_image], "exists and is not a socket")

    # --disk: a disk that cannot be used is refused before any VM exists.
    disk = os.path.join(tmp, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    expect_usage_error(["--kernel", image, "--disk", "path=" + os.path.join(tmp, "nodisk.img")],
                       "nodisk.img: cannot open for writing (readonly=on?): No such file")
    expect_usage_error(["--kernel", image, "--disk", "path=" + tmp + ",readonly=on"],
                       "not a regular file or block device")
    expect_usage_error(["--kernel", image, "--disk", f"path={not_image},readonly=on"],
                       "smaller than one 512-byte sector")
    expect_usage_error(["--kernel", image, "--disk", f"path={disk},queue_size=3"], "power of two")
    expect_usage_error(["--kernel", image, "--disk", f"path={disk},cache=writeback"], "unknown key 'cache'")
    rc, out, err = run("--kernel", image, "--disk", f"path={disk},readonly=on,serial=root", "--disk", f"path={disk}")
    fail_unless(rc == 1 and "KVM" in err, f"good --disk on a host without arm64 KVM: want exit 1, got {rc} {err!r}")

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
    # --vsock: a bad CID, a socket in a missing directory or over a regular file.
    expect_usage_error(["--kernel", image, "--vsock", "cid=2,socket=" + os.path.join(tmp, "v.sock")],
                       "--vsock: cid='2' must be a number from 3")
    expect_usage_error(["--kernel", image, "--vsock", "cid=3,socket=" + os.path.join(tmp, "nodir", "v")],
                       "--vsock: no directory")
    expect_usage_error(["--kernel", image, "--vsock", "cid=3,socket=" + image],
                       "exists and is not a socket")

    # Without KVM to ask, the static limit: 512 vCPUs, whose tables fit.
    expect_usage_error(["--cpus", "boot=1,max=513", "--kernel", image], "beyond the limit of 512")
    d = os.path.join(tmp, "tables512")
    rc, out, err = run("--dump-acpi", d, "--cpus", "boot=1,max=512")
    fail_unless(rc == 0 and os.path.getsize(os.path.join(d, "APIC.dat")) == 44 + 512 * 82 + 24 + 2 * 16,
                f"--dump-acpi max=512: {rc} {err!r}")

    # --fs: needs shared memory, a well-formed value, and a socket that exists.
    expect_usage_error(["--kernel", image, "--fs", "tag=a,socket=/s"], "--memory shared=on")
    expect_usage_error(["--kernel", image, "--memory", "size=512M,shared=on", "--fs", "tag=a"],
                       "--fs: tag= and socket= are required")
    expect_usage_error(["--kernel", image, "--memory", "size=512M,shared=maybe"],
                       "--memory: shared= expects on or off")
    expect_usage_error(["--kernel", image, "--memory", "size=512M,shared=on",
                        "--fs", "tag=a,socket=" + os.path.join(tmp, "no-vfs.sock")],
                       "is not a unix socket")

    # Kata's way to start a cloud-hypervisor binary: the API alone, the VM
    # from vm.create. No KVM is needed until vm.boot.
    expect_usage_error(["--api-socket", os.path.join(tmp, "a.sock"), "--seccomp", "true"],
                       "no seccomp filter")
    sock = os.path.join(tmp, "api.sock")
    p = subprocess.Popen([VMM, "--api-socket", sock, "-v", "--seccomp", "false"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with socket.socket(socket.AF_UNIX) as c:
            for _ in range(500):      # Kata polls vmm.ping the same way
                try:
                    c.connect(sock)
                    break
                except (FileNotFoundError, ConnectionRefusedError):
                    time.sleep(0.01)
            c.settimeout(5)
            c.sendall(b"GET /api/v1/vmm.ping HTTP/1.1\r\nHost: localhost\r\n\r\n"
                      b"PUT /api/v1/vmm.shutdown HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n")
            data = b""
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
        replies = data.decode(errors="replace")
        rc = p.wait(timeout=10)
        err = p.stderr.read()
        fail_unless(replies.startswith("HTTP/1.1 200 OK\r\n") and "application/json" in replies
                    and f'"pid":{p.pid}' in replies and "HTTP/1.1 204 No Content" in replies,
                    f"--api-socket alone: ping and vmm.shutdown: {replies!r}")
        fail_unless(rc == 0 and "--seccomp false" in err,
                    f"--api-socket alone: want exit 0 after vmm.shutdown and the seccomp note, got {rc} {err!r}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()

def check_vmmctl_resize_gives_up():
    """vmmctl cpu resize against a VMM that never finishes: it gives up after
    (CPUs to change + 1) x --timeout + 5 s, with exit status 1, not never."""
    import json
    import socket
    import threading
    import time
    vmmctl = os.path.join(os.path.dirname(VMM), "vmmctl")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "api.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)

        def serve():
            conn, _ = srv.accept()
            f = conn.makefile("rw")
            for line in f:
                req = json.loads(line)
                if req["method"] == "vm.info":
                    f.write(json.dumps({"jsonrpc": "2.0", "id": req["id"],
                                        "result": {"enabled_cpus": 1}}) + "\n")
                    f.flush()
                # cpu.resize: never answered
            conn.close()

        threading.Thread(target=serve, daemon=True).start()
        t0 = time.monotonic()
        p = subprocess.run([vmmctl, "-s", path, "-t", "100", "cpu", "resize", "2"],
                           capture_output=True, text=True, timeout=60)
        took = time.monotonic() - t0
        fail_unless(p.returncode == 1 and "no reply within 5200 ms" in p.stderr and 5 < took < 15,
                    f"vmmctl cpu resize gives up: {p.returncode} {p.stderr!r} after {took:.1f}s")
        srv.close()


check_vmmctl_resize_gives_up()

finish()
