"""Minimal deterministic writer for uncompressed newc ("070701") cpio archives.

Equivalent to `cpio -o -H newc`, but with fixed owners (root) and mtimes so
the same inputs always give the same bytes, and able to add device nodes
(/dev/console) without root.
"""
import os
import stat

_BLOCK = 1 << 20


class CpioWriter:
    def __init__(self, f):
        self._f = f
        self._ino = 1
        self._dirs = set()

    def _header(self, name, mode, size, nlink=1, rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        fields = (self._ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1], len(name_b), 0)
        self._ino += 1
        hdr = b"070701" + b"".join(b"%08X" % v for v in fields) + name_b
        self._f.write(hdr)
        self._pad(len(hdr))

    def _pad(self, n):
        if n % 4:
            self._f.write(b"\0" * (4 - n % 4))

    def _parents(self, name):
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.mkdir("/".join(parts[:i]))

    def mkdir(self, name, mode=0o755):
        name = name.strip("/")
        if not name or name in self._dirs:
            return
        self._parents(name)
        self._dirs.add(name)
        self._header(name, stat.S_IFDIR | mode, 0, nlink=2)

    def add_bytes(self, name, data, mode=0o644):
        name = name.strip("/")
        self._parents(name)
        self._header(name, stat.S_IFREG | mode, len(data))
        self._f.write(data)
        self._pad(len(data))

    def add_file(self, name, path, mode=None):
        name = name.strip("/")
        self._parents(name)
        st = os.stat(path)
        if mode is None:
            mode = 0o755 if st.st_mode & 0o111 else 0o644
        self._header(name, stat.S_IFREG | mode, st.st_size)
        left = st.st_size
        with open(path, "rb") as src:
            while left:
                chunk = src.read(min(_BLOCK, left))
                if not chunk:
                    raise IOError(f"{path} shrank while being packed")
                self._f.write(chunk)
                left -= len(chunk)
        self._pad(st.st_size)

    def add_symlink(self, name, target):
        name = name.strip("/")
        self._parents(name)
        t = target.encode()
        self._header(name, stat.S_IFLNK | 0o777, len(t))
        self._f.write(t)
        self._pad(len(t))

    def add_chardev(self, name, major, minor, mode=0o600):
        name = name.strip("/")
        self._parents(name)
        self._header(name, stat.S_IFCHR | mode, 0, rdev=(major, minor))

    def close(self):
        self._header("TRAILER!!!", 0, 0, nlink=1)
        # pad the archive to 512 bytes like cpio(1) does
        pos = self._f.tell()
        if pos % 512:
            self._f.write(b"\0" * (512 - pos % 512))
