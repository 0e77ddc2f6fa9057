"""Around a command that writes a run: what becomes of it when the command ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from raytrec.run.run_dir import finished
from raytrec.run.store import RunStore


@contextmanager
def outcome(run_dir: Path, resumable: Callable[[], bool]) -> Iterator[None]:
    """Drop the replaced run on success, restore it on failure (``RunStore.failed``, its
    sentence added to the error); an interruption (Ctrl-C) keeps both, so that ``--resume``
    can finish the new one."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        exc.add_note(RunStore.open(run_dir).failed(resumable()))
        raise
    finished(run_dir)
