"""A small tmpfs for disk-full cases (we run as root; ``mount -t tmpfs`` works here).

The mount is undone by a cleanup registered in the case's Ctx (lazily, so a process still
holding a file there cannot block it). A mount that fails is a SetupError: the case then says
so instead of measuring a full disk that is not there.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from bad_context import Ctx, SetupError


def mount(ctx: Ctx, path: Path, size: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SetupError(f"mount -t tmpfs failed: {done.stderr.strip()}")
    ctx.cleanups.append(lambda: unmount(path))
    return path


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def grow(path: Path, size: str) -> None:
    """Free space, as the user would before --resume."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(path)], check=True,
                   capture_output=True)


def usage(path: Path) -> str:
    import shutil

    total, used, _ = shutil.disk_usage(path)
    return f"{used // 1024} of {total // 1024} KiB used"
