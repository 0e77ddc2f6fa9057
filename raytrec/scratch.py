"""Scratch folders in ``$TMPDIR``, named after their process so that what a killed process
left can be told from what a live one is using: ``temp_prefix`` names one, ``clear_temp``
removes those of processes that no longer run on this machine (called by each ``train`` and
``tune``, and by every Ray Train worker when it starts)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path


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
