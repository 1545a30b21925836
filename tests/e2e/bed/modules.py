"""Kernel modules for the L2 guest, taken from the guest kernel's Debian package.

Debian's cloud kernel builds some drivers the tests need as modules
(virtio_mmio, virtio-rng, virtio_blk). The package ships them as .ko.xz and
without modules.dep (depmod runs at install time), while busybox insmod
needs plain .ko files loaded in dependency order. So, once per package, the
module files are copied out of the .deb into the git-ignored cache
(`.cache/e2e/modules/<package>/`); a module asked for is decompressed there
on first use, and its dependencies come from its own `depends=` modinfo
field, loaded first."""
import lzma
import os
import tarfile
from pathlib import Path


def _deb_member(deb: Path, prefix: str):
    """(name, file object) of the first ar member of `deb` whose name starts with prefix."""
    f = open(deb, "rb")
    if f.read(8) != b"!<arch>\n":
        f.close()
        raise ValueError(f"{deb}: not a Debian package")
    while True:
        hdr = f.read(60)
        if len(hdr) < 60:
            f.close()
            raise ValueError(f"{deb}: no {prefix}* member")
        name = hdr[:16].decode().strip().rstrip("/")
        size = int(hdr[48:58].decode().strip())
        if name.startswith(prefix):
            return name, f
        f.seek(size + (size & 1), os.SEEK_CUR)


def kernel_deb(kernel: Path) -> Path:
    """The .deb the guest kernel came from (scripts/setup.sh records it in PACKAGE)."""
    pkg = (Path(kernel).parent / "PACKAGE").read_text().strip()
    debs = sorted((Path(kernel).parent.parent / "debs").glob(f"{pkg}_*_arm64.deb"))
    if not debs:
        raise FileNotFoundError(f"no .deb of {pkg} in .cache/debs (run scripts/setup.sh)")
    return debs[-1]


def norm(name: str) -> str:
    return name.replace("-", "_")


class ModuleCache:
    def __init__(self, cache: Path, kernel: Path):
        self.deb = kernel_deb(kernel)
        self.dir = Path(cache) / "modules" / self.deb.stem
        self.xz = self.dir / "xz"
        self.ko = self.dir / "ko"

    def _extract(self):
        if (self.dir / ".done").exists():
            return
        tmp = self.dir.with_name(self.dir.name + f".tmp-{os.getpid()}")
        (tmp / "xz").mkdir(parents=True, exist_ok=True)
        name, f = _deb_member(self.deb, "data.tar")
        with f, tarfile.open(fileobj=f, mode="r|*") as tar:
            for m in tar:
                if m.isfile() and "/kernel/" in m.name and m.name.endswith((".ko", ".ko.xz")):
                    data = tar.extractfile(m).read()
                    base = os.path.basename(m.name)
                    (tmp / "xz" / base).write_bytes(data)
        (tmp / ".done").write_text(self.deb.name + "\n")
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, self.dir)
        except OSError:      # another run extracted it meanwhile
            if not (self.dir / ".done").exists():
                raise

    def _index(self) -> dict:
        idx = {}
        for p in self.xz.iterdir():
            n = p.name[:-len(".xz")] if p.name.endswith(".xz") else p.name
            idx[norm(n[:-len(".ko")])] = p
        return idx

    def _plain(self, src: Path) -> Path:
        """The uncompressed .ko of a packaged module file."""
        name = src.name[:-3] if src.name.endswith(".xz") else src.name
        out = self.ko / name
        if not out.exists():
            self.ko.mkdir(parents=True, exist_ok=True)
            data = src.read_bytes()
            if src.name.endswith(".xz"):
                data = lzma.decompress(data)
            tmp = out.with_name(f".{name}.{os.getpid()}")
            tmp.write_bytes(data)
            os.replace(tmp, out)
        return out

    @staticmethod
    def depends(ko: Path) -> list:
        data = ko.read_bytes()
        i = data.find(b"\0depends=")
        if i < 0:
            return []
        val = data[i + len(b"\0depends="):data.index(b"\0", i + 1)].decode()
        return [d for d in val.split(",") if d]

    def resolve(self, names) -> list:
        """Plain .ko paths of `names` and what they need, in load order."""
        self._extract()
        idx = self._index()
        order, seen = [], set()

        def visit(n, chain):
            n = norm(n)
            if n in seen:
                return
            if n in chain:
                raise ValueError(f"module dependency loop: {' -> '.join(chain + [n])}")
            if n not in idx:
                raise FileNotFoundError(f"module {n} is not in {self.deb.name} (built in?)")
            ko = self._plain(idx[n])
            for d in self.depends(ko):
                visit(d, chain + [n])
            seen.add(n)
            order.append(ko)

        for n in names:
            visit(n, [])
        return order
