#!/usr/bin/env python3
"""--net as a user meets it on a host: an fd that is not a usable tap is
refused with one clear line and exit status 2 before any VM exists; a real
tap fd (opened the way Kata opens it, in a network namespace of our own,
when this host allows it) gets past the check."""
import fcntl
import os
import struct
import subprocess
import sys
import tempfile

from tally import fail_unless, finish

VMM = sys.argv[1]
TUNSETIFF = 0x400454CA


def run(args, pass_fds=(), stdin=None, netns=False):
    pre = ["unshare", "--net", "--"] if netns else []
    p = subprocess.run(pre + [VMM, *args], capture_output=True, text=True, timeout=30,
                       pass_fds=pass_fds, stdin=stdin)
    return p.returncode, p.stdout, p.stderr


def expect_usage_error(args, fragment, **kw):
    rc, out, err = run(args, **kw)
    lines = err.strip().splitlines()
    fail_unless(rc == 2 and len(lines) == 1 and fragment in lines[0] and lines[0].startswith("vmm: "),
                f"{args}: want exit 2 and one line containing {fragment!r}, got {rc} {err!r}")


with tempfile.TemporaryDirectory() as tmp:
    image = os.path.join(tmp, "Image")
    with open(image, "wb") as f:
        hdr = bytearray(64)
        hdr[16:24] = (1 << 20).to_bytes(8, "little")     # image_size
        hdr[56:60] = b"ARM\x64"
        f.write(hdr)

    r, w = os.pipe()
    expect_usage_error(["--kernel", image, "--net", f"fd={r}"], f"fd {r} is not a tap", pass_fds=(r,))
    expect_usage_error(["--kernel", image, "--net", "fd=0"], "fd 0 is not a tap", stdin=r)
    # One fd is one queue pair of one device (each device closes its own).
    expect_usage_error(["--kernel", image, "--net", f"fd={r},fd={r}"], f"fd {r} is given twice",
                       pass_fds=(r,))
    expect_usage_error(["--kernel", image, "--net", f"fd={r}", "--net", f"fd={r}"],
                       f"fd {r} is given twice", pass_fds=(r,))
    os.close(r)
    os.close(w)
    expect_usage_error(["--kernel", image, "--net", "fd=250"], "fd 250 is not open")
    expect_usage_error(["--kernel", image, "--net", "fd=3,num_queues=6"], "num_queues=6 needs 3 fds")

    # A tap opened with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR passes; the run then fails only for want of KVM.
    usable = os.access("/dev/net/tun", os.R_OK | os.W_OK) and \
        subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0
    if usable:
        helper = ("import fcntl,os,struct,subprocess,sys\n"
                  "fd=os.open('/dev/net/tun',os.O_RDWR)\n"
                  f"fcntl.ioctl(fd,{TUNSETIFF},struct.pack('16sH22x',b'vmmcli0',0x5002))\n"
                  "sys.exit(subprocess.run(sys.argv[1:]+[f'fd={fd}'],pass_fds=(fd,)).returncode)\n")
        p = subprocess.run(["unshare", "--net", "--", sys.executable, "-c", helper,
                            VMM, "--kernel", image, "--net"], capture_output=True, text=True, timeout=30)
        fail_unless(p.returncode == 1 and "KVM" in p.stderr,
                    f"tap fd: want exit 1 naming KVM, got {p.returncode} {p.stderr!r}")
    else:
        print("SKIP tap fd: no /dev/net/tun or network namespace here")

finish()
