"""Where a run is kept, and run directories at a pyarrow-filesystem URI (``s3://BUCKET/runs/NAME``, ``gs://...``,
``file:///mnt/runs/NAME``).

raytrec works in a local copy of such a run directory, its *mirror* under the cache directory
(``$RAYTREC_CACHE_DIR``, else ``~/.cache/raytrec``), with every code path of a local run, and
publishes to the URI what a run directory holds as soon as it is written: the marker, the config
and the prepared data when the run is created, the progress each epoch, in-process checkpoints,
the final outputs, and a failed run's ``logs/``. Ray Train's workers persist their checkpoints
to ``URI/ray`` themselves and read the prepared data from ``URI/data`` into a cache on their
node. The mirror's marker names the URI, so code that holds the mirror's path knows where the
run lives (``uri_of``).

A URI run directory is created, resumed and read; it is never replaced (``--overwrite`` is
refused): an object store has no rename to keep the earlier run until the new one finishes.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from raytrec.errors import RunDirError
from raytrec.layout import MARKER, RAY_STORAGE, read_marker, write_marker
from raytrec.run.run_dir import stage
from raytrec.run.store import RunStore
from raytrec.run.uri import URI_KEY, Remote, cache_dir, is_uri, joined, mirror_of

DATA_CACHE_DAYS = 7  # a node's copy of a run's data is dropped after a week unused


def _fresh(mirror: Path) -> Path:
    """The mirror emptied: it is raytrec's cache, the run itself is at its URI."""
    shutil.rmtree(mirror, ignore_errors=True)
    mirror.parent.mkdir(parents=True, exist_ok=True)
    return mirror


def check_new(uri: str, overwrite: bool, kind: str = "run", flag: str = "--run-dir") -> Remote:
    """Refuse, before any work, a URI that holds anything: a URI run is never replaced."""
    remote = Remote.open(uri, flag)
    found = remote.kind()
    if found == "file":
        raise RunDirError(f"{flag} {uri} is a file, not a directory; choose another {flag}")
    if found == "dir" and remote.names():
        resume = f"--resume {uri} to continue it, " if flag == "--run-dir" else ""
        why = ("--overwrite does not replace a run directory at a URI (a store has no rename "
               "to keep the earlier run until the new one finishes); " if overwrite else "")
        raise RunDirError(f"{kind} directory {uri} already exists; {why}{resume}choose another "
                          f"{flag}, or delete it with the store's own tools")
    return remote


def create(uri: str, kind: str, overwrite: bool, fill: Callable[[Path], None]) -> Path:
    """A new run at ``uri``: ``fill`` builds it in the mirror, which is then published (marker
    first, so that what a failed upload left is known as raytrec's). Returns the mirror."""
    remote = check_new(uri, overwrite, kind)
    mirror = _fresh(mirror_of(uri))
    stage(mirror, kind, fill, overwrite=False)
    write_marker(mirror, {**(read_marker(mirror) or {}), URI_KEY: remote.uri})
    try:
        remote.put(mirror / MARKER, MARKER)
        for entry in sorted(mirror.iterdir()):
            if entry.name != MARKER:
                remote.put(entry, entry.name)
    except BaseException:
        remote.remove()
        shutil.rmtree(mirror, ignore_errors=True)
        raise
    return mirror


def pull(uri: str, flag: str = "--resume") -> Path:
    """The mirror of an existing run at ``uri``, fetched whole but for Ray Train's storage
    (its checkpoints are read from the URI by Ray)."""
    remote = Remote.open(uri, flag)
    names = remote.names()
    if MARKER not in names:
        what = "there is nothing there" if not names else f"it has no {MARKER} file"
        raise RunDirError(f"{flag} {uri} is not a raytrec run directory ({what}); give the "
                          "URI of a run raytrec made")
    mirror = _fresh(mirror_of(uri))
    staging = Path(tempfile.mkdtemp(prefix=f".{mirror.name}.pull-", dir=mirror.parent))
    try:
        for name in names:
            if name != RAY_STORAGE:
                remote.get(name, staging / name)
        write_marker(staging, {**(read_marker(staging) or {}), URI_KEY: remote.uri})
        staging.rename(mirror)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return mirror


def readable(run_dir: str | Path, flag: str = "RUN_DIR") -> Path:
    """A run directory to read: itself, or the mirror of the run at a URI."""
    return pull(str(run_dir), flag) if is_uri(str(run_dir)) else Path(run_dir)


@contextmanager
def reading(run_dir: str | Path, flag: str = "RUN_DIR") -> Iterator[Path]:
    """``readable(run_dir)``, its mirror dropped afterwards."""
    path = readable(run_dir, flag)
    try:
        yield path
    finally:
        RunStore.open(path).forget()


def fetch_data(uri: str) -> Path:
    """The run's prepared data in this node's cache, fetched once per content: two workers on
    a node that fetch it at once each write their own copy and the first renamed in wins."""
    remote = Remote.open(uri)
    info = remote.read_text("data/info.json")
    if info is None:
        raise RunDirError(f"{joined(uri, 'data')} is incomplete; start a new run with raytrec "
                          "train")
    key = hashlib.sha256(f"{remote.uri}\n{info}".encode()).hexdigest()[:16]
    target = cache_dir() / "data" / key
    if target.is_dir():
        target.touch()
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    _prune(target.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent))
    try:
        remote.get("data", staging / "data")
        (staging / "data").rename(target)
    except OSError:
        if not target.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _prune(folder: Path) -> None:
    """Drop the cached data of runs no worker on this node has started for a while."""
    stale = time.time() - DATA_CACHE_DAYS * 86400
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.name.startswith(".") and entry.stat().st_mtime < stale:
            shutil.rmtree(entry, ignore_errors=True)
