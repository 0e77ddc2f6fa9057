"""A full disk as one message: which file, the space needed and free, and what is kept."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path
from typing import Any

from raytrec.errors import DiskFull

FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
# torch.save reports a failed write as a RuntimeError without an errno: below this much free
# space, a failed write is taken for a full disk.
NEARLY_FULL = 16 * 2**20


def free_bytes(path: Path) -> int | None:
    """Free space of the file system that holds ``path`` (or its nearest existing parent)."""
    for place in (Path(path), *Path(path).parents):
        if place.exists():
            try:
                return shutil.disk_usage(place).free
            except OSError:
                return None
    return None


def size_of(path: Path) -> int:
    """Bytes in a file, or in every file under a directory."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def tensor_bytes(state: Any) -> int:
    """Roughly what ``torch.save(state)`` writes: the bytes of every tensor in it."""
    import torch

    if isinstance(state, torch.Tensor):
        return state.numel() * state.element_size()
    if isinstance(state, dict):
        return sum(tensor_bytes(v) for v in state.values())
    if isinstance(state, list | tuple):
        return sum(tensor_bytes(v) for v in state)
    return 0


def is_full(exc: BaseException, where: Path, needed: int = 0) -> bool:
    """Whether ``exc``, raised writing under ``where``, means the disk is full."""
    if isinstance(exc, OSError) and exc.errno in FULL:
        return True
    free = free_bytes(where)
    return isinstance(exc, OSError | RuntimeError) and free is not None and \
        free < max(needed, NEARLY_FULL)


def _size(n: int | None) -> str:
    if n is None:
        return "unknown"
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def full(where: Path, needed: int | None, kept: str) -> DiskFull:
    """The error for a write to ``where`` that found no space; ``kept`` says what is kept and
    how to go on."""
    need = f"about {_size(needed)} needed, " if needed else ""
    return DiskFull(f"no space left on the device for {where} ({need}{_size(free_bytes(where))} "
                    f"free there); {kept}")
