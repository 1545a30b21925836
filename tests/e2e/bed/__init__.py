"""Nested end-to-end test bed for vmm.

Host (x86_64, no /dev/kvm) -> qemu-system-aarch64 (TCG, EL2) -> L1 Linux with
/dev/kvm -> our cross-built vmm -> L2 Linux guest. See tests/e2e/README.md.
"""
from .case import Case, RunResult, Result, Check  # noqa: F401
from . import checks  # noqa: F401
from .runner import Bed, BedConfig  # noqa: F401
