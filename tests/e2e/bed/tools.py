"""Small L1 helper programs (Case.l1_tools): a C file in bed/guest/ built as
a static aarch64 executable with the cross compiler scripts/setup.sh
installs, cached in .cache/e2e/tools/ under the hash of its source."""
import hashlib
import os
import subprocess
from pathlib import Path

CC = os.environ.get("E2E_CROSS_CC", "aarch64-linux-gnu-gcc")


def build_tool(cache: Path, src: Path) -> Path:
    digest = hashlib.sha256(src.read_bytes() + CC.encode()).hexdigest()[:16]
    out = Path(cache) / "tools" / f"{src.stem}-{digest}"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}")
    try:
        subprocess.run([CC, "-static", "-O2", "-Wall", "-Werror", "-o", str(tmp), str(src)],
                       check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise RuntimeError(f"{CC} not found: run scripts/setup.sh (cross compiler for {src.name})")
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"building {src.name} failed:\n{e.stderr}")
    os.replace(tmp, out)
    return out
