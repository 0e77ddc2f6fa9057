"""What the commands that write a directory share: its lock, held for the whole command, and
Ctrl-C or SIGTERM turned into a message that says what was kept and how to go on."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from raytrec.errors import Interrupted
from raytrec.run import lock, run_dir, uri

WHAT = {"--run-dir": "run directory", "--resume": "run directory", "--out": "export directory"}


@contextmanager
def claimed(target: str, flag: str, args: argparse.Namespace,
            what: str | None = None) -> Iterator[None]:
    """Hold the lock of the directory ``target`` (of the local mirror, for a run at a URI) for
    the body: the one writer of it. ``flag`` is the option that named it, ``args`` the
    command's arguments (``argv``: as typed)."""
    place = uri.mirror_of(target) if uri.is_uri(target) else Path(target)
    command = shlex.join(["raytrec", *getattr(args, "argv", [])])
    with lock.writing(place, what or WHAT.get(flag, "directory"), flag, shown=target,
                      command=command):
        yield


@contextmanager
def interruptible(command: str, directory: Path) -> Iterator[None]:
    """Ctrl-C or SIGTERM (or Ray's SIGINT handler's ``sys.exit``) becomes a message that says
    how to go on."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit) as exc:
        old = run_dir.replaced(directory)
        kept = f" (the run it replaces is kept in {old} until then)" if old else ""
        raise Interrupted(f"interrupted; continue with raytrec {command} --resume "
                          f"{uri.location(directory)}{kept}") from exc


@contextmanager
def written(what: str) -> Iterator[None]:
    """Around what a command prints after its results are written: Ctrl-C there says so."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit) as exc:
        raise Interrupted(f"interrupted; {what}") from exc
