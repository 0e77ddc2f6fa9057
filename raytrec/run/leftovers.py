"""What a killed raytrec process leaves in or beside a run directory, or in ``$TMPDIR``,
cleared by the next one.

Every write into a run directory goes through a temporary name that is renamed into place
when whole (``checkpoints/.tmp_N``, ``.metrics.json.tmp``, ``.raytrec.tmp``, a staging
directory ``.<name>.staging-*`` beside it), so what a SIGKILL or a power cut leaves is one of
those names, or a progress line cut short. Only the holder of the directory's lock
(``raytrec.run.lock``) calls ``clear``: no other raytrec process is writing those names.

Scratch folders in ``$TMPDIR`` carry their process's pid (``temp_prefix``): ``clear_temp``
removes those of processes that no longer run on this machine.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from raytrec.run.run_dir import MARKER, read_marker


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


def temp_prefix(what: str) -> str:
    """The prefix of a scratch folder in ``$TMPDIR``, for ``tempfile.mkdtemp``."""
    return f"raytrec-{what}-{os.getpid()}-"


_TEMP = re.compile(r"^raytrec-[a-z]+-(\d+)-")


def clear_temp(wait_s: float = 0.0) -> list[str]:
    """Remove the scratch folders in ``$TMPDIR`` whose process is gone; returns their paths.
    ``wait_s``: for so long, wait for the processes of the others to end (Ray workers being
    stopped) and remove theirs too."""
    deadline = time.monotonic() + wait_s
    removed: list[str] = []
    while True:
        others = []
        for entry in Path(tempfile.gettempdir()).glob("raytrec-*-*-*"):
            found = _TEMP.match(entry.name)
            if not (found and entry.is_dir()) or int(found.group(1)) == os.getpid():
                continue
            if _alive(int(found.group(1))):
                others.append(entry)
            else:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(str(entry))
        if not others or time.monotonic() >= deadline:
            return removed
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
