"""Run and tune directories: raytrec only fills, replaces or deletes the ones it made itself.

Every directory raytrec creates holds a marker file, ``.raytrec``. ``--overwrite`` replaces a
directory only when it has one. A replaced run is not deleted at once: it is kept beside the new
one as ``<name>.previous`` until the new run finishes, and put back if the new run fails. A run
that is interrupted keeps both, so that ``--resume`` can finish it and only then drop the old.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from raytrec.disk import full, is_full
from raytrec.errors import RunDirError
from raytrec.interrupts import deferred
from raytrec.layout import MARKER, read_marker, write_marker

REPLACES = "replaces"


def check_target(run_dir: Path, overwrite: bool, kind: str = "run",
                 flag: str = "--run-dir") -> None:
    """Refuse, before any work, a ``--run-dir`` (the directory given with ``flag``) that
    raytrec may not create or replace."""
    path = Path(os.path.abspath(run_dir))
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise RunDirError(f"{flag} {run_dir}: {parent} is a file, not a directory; "
                              f"choose another {flag}")
    if path.exists() and not path.is_dir():
        raise RunDirError(f"{flag} {run_dir} is a file, not a directory; choose another "
                          f"{flag}")
    if not path.exists() or not any(path.iterdir()):
        return
    if read_marker(path) is None:
        how = "--overwrite: " if overwrite else ""
        raise RunDirError(
            f"{how}{run_dir} already exists and was not made by raytrec (it has no {MARKER} "
            f"file), so raytrec will not write into it or replace it; choose a new {flag}")
    if not overwrite:
        resume = f"--resume {run_dir} to continue it, " if flag == "--run-dir" else ""
        raise RunDirError(
            f"{kind} directory {run_dir} already exists; pass --overwrite to replace it, "
            f"{resume}or choose another {flag}")
    cwd = Path.cwd().resolve()
    if cwd == path.resolve() or path.resolve() in cwd.parents:
        raise RunDirError(f"--overwrite: {run_dir} is or holds the current directory; run "
                          f"raytrec from elsewhere or choose another {flag}")


def stage(run_dir: Path, kind: str, fill: Callable[[Path], None], overwrite: bool,
          flag: str = "--run-dir") -> None:
    """Build a new run directory with ``fill`` beside ``run_dir``, then put it in place.

    A failure while filling leaves nothing behind (not even parent directories it created). An
    existing ``run_dir`` (checked by ``check_target``) is kept as ``<name>.previous``.
    """
    check_target(run_dir, overwrite, kind, flag)
    path = Path(os.path.abspath(run_dir))
    made = missing_parents(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.staging-", dir=path.parent))
    except OSError as exc:
        remove_empty(made)
        raise RunDirError(f"{flag} {run_dir}: cannot create it ({exc.strerror or exc}); "
                          f"choose a {flag} where you can write") from exc
    try:
        write_marker(staging, {"kind": kind, "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
        fill(staging)
        with deferred():  # the renames that put it in place are not cut in two
            _install(staging, path)
    except BaseException as exc:
        no_room = isinstance(exc, OSError | RuntimeError) and is_full(exc, staging)
        shutil.rmtree(staging, ignore_errors=True)
        remove_empty(made)
        if no_room:
            raise full(path, None, f"nothing was kept; free some space, or choose a {flag} "
                       "on another disk") from None
        raise


def _install(staging: Path, path: Path) -> None:
    marker = read_marker(staging) or {}
    if path.exists() and any(path.iterdir()):
        old = read_marker(path) or {}
        pending = old.get(REPLACES)
        if pending and (path.parent / pending).is_dir():
            # The run being replaced never finished: the one it replaced is still the earlier
            # finished run, and stays the one kept.
            shutil.rmtree(path)
            marker[REPLACES] = pending
        else:
            backup = free_name(path.parent, f"{path.name}.previous")
            path.rename(backup)
            marker[REPLACES] = backup.name
        write_marker(staging, marker)
    elif path.exists():
        path.rmdir()
    staging.rename(path)


def free_name(parent: Path, name: str, numbered: str = "{name}-{n}") -> Path:
    """``parent / name``, or the first of ``numbered`` (n = 2, 3, ...) that does not exist."""
    candidate, n = parent / name, 1
    while candidate.exists():
        n += 1
        candidate = parent / numbered.format(name=name, n=n)
    return candidate


def missing_parents(path: Path) -> list[Path]:
    return [p for p in path.parents if not p.exists()]


def remove_empty(dirs: list[Path]) -> None:
    for d in dirs:  # deepest first
        try:
            d.rmdir()
        except OSError:
            return


def replaced(run_dir: Path) -> Path | None:
    """The earlier run that ``run_dir`` replaces and that is kept until it finishes."""
    name = (read_marker(run_dir) or {}).get(REPLACES)
    path = Path(run_dir).parent / name if name else None
    return path if path is not None and path.is_dir() else None


@deferred()
def finished(run_dir: Path) -> None:
    """The run finished: drop the earlier one it replaced."""
    old = replaced(run_dir)
    if old is not None and read_marker(old) is not None:
        shutil.rmtree(old)
    marker = read_marker(run_dir)
    if marker is not None and REPLACES in marker:
        del marker[REPLACES]
        write_marker(Path(run_dir), marker)
