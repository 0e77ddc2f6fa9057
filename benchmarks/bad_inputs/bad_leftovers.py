"""What a command left behind: sentinel files, partial files in the case, temp folders.

Every new case plants a sentinel file in each folder raytrec is pointed at (the case
directory, a link's target, a tmpfs); a sentinel deleted or changed afterwards is data loss.
A partial file (``.tmp_N``, ``*.tmp``, ``.NAME.staging-*``, ``.NAME.pull-*``) left under the
case directory, or a raytrec temp folder left in the per-case ``$TMPDIR``, is a leftover.
Ray's session folders (in ``$RAY_TMPDIR``) and torch's compile cache are reported apart: they
are not raytrec's to remove.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from bad_context import Ctx

SENTINEL = "SENTINEL-keep-me.txt"
SENTINEL_TEXT = b"raytrec must not touch this file\n"
PARTIAL = re.compile(r"^\.tmp|\.tmp$|\.staging-|\.pull-")
RAYTREC_TMP = re.compile(r"^(raytrec-|tmp)")
# torch's compile cache, multiprocessing's (Ray's and torch's workers) folders, Ray's sessions
NOT_RAYTRECS = ("torchinductor_", "pymp-")


def plant(ctx: Ctx, folder: Path) -> None:
    """A sentinel in ``folder``, checked by ``sentinels`` after the command."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SENTINEL).write_bytes(SENTINEL_TEXT)
    ctx.notes.setdefault("sentinels", []).append(folder)


def sentinels(ctx: Ctx) -> str:
    lost = []
    for folder in ctx.notes.get("sentinels", []):
        path = folder / SENTINEL
        try:
            intact = path.read_bytes() == SENTINEL_TEXT
        except OSError:
            intact = False
        if not intact:
            lost.append(_shown(ctx, path))
    if lost:
        ctx.flag("data loss", f"sentinel deleted or changed: {', '.join(lost)}")
        return f"sentinels lost: {', '.join(lost)}"
    count = len(ctx.notes.get("sentinels", []))
    return f"sentinels intact ({count})" if count else ""


def partial_files(ctx: Ctx, limit: int = 3000) -> list[str]:
    """Partial files and folders under the case directory (links are not followed)."""
    found: list[str] = []
    seen = 0
    for dirpath, dirnames, filenames in os.walk(ctx.root):
        seen += len(filenames) + len(dirnames)
        if seen > limit:  # a huge tree is a finding of its own; do not walk it all
            break
        dirnames[:] = [d for d in dirnames if d not in ("ray", "plug")]
        for name in [*dirnames, *filenames]:
            if PARTIAL.search(name):
                found.append(_shown(ctx, Path(dirpath) / name))
    return sorted(found)


def tmp_leftovers(ctx: Ctx) -> tuple[list[str], list[str]]:
    """(raytrec's temp folders and files left in $TMPDIR, others' such as torch's)."""
    if ctx.tmp is None or not ctx.tmp.is_dir():
        return [], []
    names = sorted(p.name for p in ctx.tmp.iterdir())
    others = [n for n in names if n.startswith(NOT_RAYTRECS) or n == "ray"]
    ours = [n for n in names if n not in others and RAYTREC_TMP.search(n)]
    unknown = [n for n in names if n not in others and n not in ours]
    return ours + unknown, others


def ray_sessions(ctx: Ctx) -> int:
    ray = ctx.ray_tmp / "ray" if ctx.ray_tmp is not None else None
    return len(list(ray.glob("session_2*"))) if ray is not None and ray.is_dir() else 0


def leftovers(ctx: Ctx) -> str:
    """One line on what was left; flags "leftover" unless the case said not to judge it."""
    partial = partial_files(ctx)
    ours, others = tmp_leftovers(ctx)
    parts = []
    if partial:
        parts.append(f"partial left: {', '.join(partial[:6])}")
    if ours:
        parts.append(f"$TMPDIR left: {', '.join(ours[:6])}")
    if (partial or ours) and not ctx.notes.get("leftovers_unjudged"):
        ctx.flag("leftover", "; ".join(parts))
    elif partial or ours:
        parts.append(f"(not judged: {ctx.notes['leftovers_unjudged']})")
    sessions = ray_sessions(ctx)
    if others or sessions:
        shown = [*others, *([f"ray/ ({sessions} sessions)"] if sessions else [])]
        parts.append(f"not raytrec's: {', '.join(shown)}")
    return "; ".join(parts) if parts else "no partial files, $TMPDIR clean"


def _shown(ctx: Ctx, path: Path) -> str:
    try:
        return str(path.relative_to(ctx.root))
    except ValueError:
        return str(path)
