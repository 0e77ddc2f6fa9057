"""What a killed raytrec process leaves in or beside a run directory, or in ``$TMPDIR``,
cleared by the next one.

Every write into a run directory goes through a temporary name that is renamed into place
when whole (``checkpoints/.tmp_N``, ``.metrics.json.tmp``, ``.raytrec.tmp``, a staging
directory ``.<name>.staging-*`` beside it), so what a SIGKILL or a power cut leaves is one of
those names, or a progress line cut short. Only the holder of the directory's lock
(``raytrec.run.lock``) calls ``clear``: no other raytrec process is writing those names.

Scratch folders in ``$TMPDIR`` are ``raytrec.scratch``'s.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from raytrec.layout import MARKER, read_marker


def clear(run_dir: Path) -> list[str]:
    """Remove what a killed writer left in ``run_dir`` and beside it; returns a note for each
    thing removed."""
    run_dir = Path(run_dir)
    removed: list[Path] = []
    for tmp in sorted((run_dir / "checkpoints").glob(".tmp_*")):
        shutil.rmtree(tmp, ignore_errors=True)
        removed.append(tmp)
    if run_dir.is_dir():
        for tmp in sorted(run_dir.glob(".*.tmp")):
            if tmp.is_file():
                tmp.unlink()
                removed.append(tmp)
    removed += _stagings(run_dir)
    notes = [f"removed {path}, left half-written by a raytrec process that was killed"
             for path in removed]
    cut = _cut_progress(run_dir / "progress.jsonl")
    if cut:
        notes.append(f"dropped the last line of {run_dir / 'progress.jsonl'}, cut short by a "
                     "raytrec process that was killed")
    return notes


def _stagings(run_dir: Path) -> list[Path]:
    """Staging directories of ``run_dir`` that a killed ``train`` or ``tune`` left beside it
    (raytrec's: each holds its marker, or nothing)."""
    found = []
    for staging in sorted(run_dir.parent.glob(f".{run_dir.name}.staging-*")):
        if staging.is_dir() and (read_marker(staging) is not None or
                                 not any(p.name != MARKER + ".tmp" for p in staging.iterdir())):
            shutil.rmtree(staging, ignore_errors=True)
            found.append(staging)
    return found


def _cut_progress(path: Path) -> bool:
    """Drop a last line without its newline (its write was cut short)."""
    if not path.is_file():
        return False
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return False
    keep = data[: data.rfind(b"\n") + 1]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(keep)
    tmp.replace(path)
    return True
