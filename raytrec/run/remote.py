"""Run directories at a pyarrow-filesystem URI (``s3://BUCKET/runs/NAME``, ``gs://...``,
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

import functools
import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raytrec.errors import RunDirError
from raytrec.run.run_dir import LOGS, MARKER, RAY_STORAGE, read_marker, stage, write_marker

logger = logging.getLogger(__name__)

CACHE_ENV = "RAYTREC_CACHE_DIR"
URI_KEY = "uri"
DATA_CACHE_DAYS = 7  # a node's copy of a run's data is dropped after a week unused
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# What pyarrow opens; checked without opening, which for s3:// already asks the network.
SCHEMES = ("file", "s3", "gs", "gcs", "hdfs", "viewfs", "abfs", "abfss")
STATE_FILE = "state.pt"  # raytrec.train.checkpoint: its presence says a checkpoint is complete
LAST = (STATE_FILE, "info.json")  # written last


def is_uri(value: str | Path | None) -> bool:
    return isinstance(value, str) and bool(SCHEME.match(value))


def check_scheme(flag: str, uri: str) -> None:
    scheme = uri.split("://", 1)[0].lower()
    if scheme not in SCHEMES:
        raise RunDirError(f"{flag} {uri}: raytrec cannot store a run at a {scheme}:// URI; give "
                          f"a path, or a URI of {', '.join(s + '://' for s in SCHEMES)}")


def local_only(value: str | Path | None, flag: str) -> None:
    """``raytrec tune`` keeps its search (Tune's experiment, its trials' runs, the plots) on a
    file system path."""
    if is_uri(value):
        raise RunDirError(f"{flag} {value}: raytrec tune keeps a search on a file system path; "
                          "give a path on storage every node sees (an NFS or a bucket mounted "
                          "at the same path on each node), or train one config at that URI "
                          "with raytrec train")


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "raytrec")


def joined(where: str, rel: str) -> str:
    """``rel`` inside a run directory's path or URI (before a URI's ``?options``)."""
    base, sep, query = where.partition("?")
    return f"{base.rstrip('/')}/{rel}{sep}{query}"


def mirror_of(uri: str) -> Path:
    """The local copy of the run at ``uri`` on this node."""
    name = uri.partition("?")[0].rstrip("/").rsplit("/", 1)[-1] or "run"
    return cache_dir() / "runs" / f"{name}-{hashlib.sha1(uri.encode()).hexdigest()[:12]}"


def uri_of(run_dir: Path | str) -> str | None:
    """The URI a mirror stands for; None for a run directory that is its own place."""
    if is_uri(str(run_dir)):
        return str(run_dir)
    return (read_marker(Path(run_dir)) or {}).get(URI_KEY)


def location(run_dir: Path | str) -> str:
    """Where a run directory is, as the user named it."""
    return uri_of(run_dir) or str(run_dir)


@dataclass(frozen=True)
class Remote:
    """A directory at a URI, through the pyarrow filesystem that serves it."""

    uri: str
    fs: Any
    root: str

    @classmethod
    def open(cls, uri: str, flag: str = "--run-dir") -> Remote:
        check_scheme(flag, uri)
        try:
            fs, root = _from_uri(uri)
        except (OSError, ValueError) as exc:
            raise RunDirError(f"{flag} {uri}: cannot open it ({_first_line(exc)}); check the "
                              "URI and the store's credentials") from None
        base, sep, query = uri.partition("?")
        return cls(base.rstrip("/") + sep + query, fs, root.rstrip("/"))

    def path(self, rel: str = "") -> str:
        return f"{self.root}/{rel}" if rel else self.root

    @contextmanager
    def _io(self, doing: str) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise RunDirError(f"{self.uri}: cannot {doing} ({_first_line(exc)}); check the "
                              "store's credentials and that it is reachable from here") from None

    def kind(self, rel: str = "") -> str:
        """``"dir"``, ``"file"`` or ``"none"``."""
        import pyarrow.fs

        with self._io(f"read {rel or 'it'}"):
            found = self.fs.get_file_info(self.path(rel)).type
        return {pyarrow.fs.FileType.Directory: "dir",
                pyarrow.fs.FileType.File: "file"}.get(found, "none")

    def names(self, rel: str = "") -> list[str]:
        """What is directly under ``rel``."""
        import pyarrow.fs

        if self.kind(rel) != "dir":
            return []
        with self._io(f"list {rel or 'it'}"):
            found = self.fs.get_file_info(pyarrow.fs.FileSelector(self.path(rel)))
        return sorted(Path(i.path).name for i in found)

    def read_text(self, rel: str) -> str | None:
        if self.kind(rel) != "file":
            return None
        with self._io(f"read {rel}"), self.fs.open_input_stream(self.path(rel)) as fh:
            return fh.read().decode()

    def write_text(self, rel: str, text: str) -> None:
        with self._io(f"write {rel}"):
            self._make_parent(rel)
            with self.fs.open_output_stream(self.path(rel)) as fh:
                fh.write(text.encode())

    def put(self, local: Path, rel: str) -> None:
        """Copy a local file or tree to ``rel``, each file whole (``LAST`` files last)."""
        import pyarrow.fs

        files = [local] if local.is_file() else sorted(
            (p for p in local.rglob("*") if p.is_file()), key=lambda p: (p.name in LAST, p))
        here = pyarrow.fs.LocalFileSystem()
        # A local store writes in place: a copy beside it, renamed, is never half-seen. An
        # object store's write is whole already, and it has no cheap rename.
        atomic = self.fs.type_name == "local"
        with self._io(f"write {rel}"):
            for file in files:
                target = rel if file == local else f"{rel}/{file.relative_to(local).as_posix()}"
                self._make_parent(target)
                dest = self.path(target) + (".tmp" if atomic else "")
                pyarrow.fs.copy_files(str(file), dest, source_filesystem=here,
                                      destination_filesystem=self.fs)
                if atomic:
                    self.fs.move(dest, self.path(target))

    def get(self, rel: str, local: Path) -> None:
        import pyarrow.fs

        is_dir = self.kind(rel) == "dir"
        (local if is_dir else local.parent).mkdir(parents=True, exist_ok=True)
        with self._io(f"read {rel}"):
            pyarrow.fs.copy_files(self.path(rel), str(local), source_filesystem=self.fs,
                                  destination_filesystem=pyarrow.fs.LocalFileSystem())

    def remove(self, rel: str = "") -> None:
        kind = self.kind(rel)
        with self._io(f"remove {rel or 'it'}"):
            if kind == "dir":
                self.fs.delete_dir(self.path(rel))
            elif kind == "file":
                self.fs.delete_file(self.path(rel))

    def sync(self, local: Path, rel: str) -> None:
        """Make the tree ``rel`` hold what ``local`` holds: new entries copied, files replaced,
        entries ``local`` no longer has removed. A directory in it is written once (a
        checkpoint): one already there is kept as it is, unless its upload was cut short
        before its ``STATE_FILE``."""
        present = set(self.names(rel))
        wanted = {p.name: p for p in local.iterdir()} if local.is_dir() else {}
        for name, path in sorted(wanted.items()):
            cut_short = (path / STATE_FILE).is_file() and \
                self.kind(f"{rel}/{name}/{STATE_FILE}") != "file"
            if path.is_file() or name not in present or cut_short:
                self.put(path, f"{rel}/{name}")
        for name in sorted(present - set(wanted)):
            self.remove(f"{rel}/{name}")

    def _make_parent(self, rel: str) -> None:
        parent = self.path(rel).rsplit("/", 1)[0]
        self.fs.create_dir(parent, recursive=True)


@functools.lru_cache(maxsize=16)
def _from_uri(uri: str) -> tuple[Any, str]:
    """pyarrow's filesystem of ``uri`` (opening an ``s3://`` one asks the bucket's region
    of the network, so it is done once per process)."""
    import pyarrow.fs

    return pyarrow.fs.FileSystem.from_uri(uri)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


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
        forget(path)


def publish(run_dir: Path, *names: str) -> None:
    """Copy the files or trees ``names`` of a mirror to its run's URI (nothing for a run
    directory that is its own place)."""
    uri = uri_of(run_dir)
    if uri is None:
        return
    remote = Remote.open(uri)
    for name in names:
        local = Path(run_dir) / name
        if local.is_dir():
            remote.sync(local, name)
        elif local.is_file():
            remote.put(local, name)


def failed_remote(run_dir: Path, resumable: bool) -> str:
    """``run_dir.failed`` for a mirror: its ``logs/`` published; the run at the URI removed
    when it holds neither a checkpoint to resume nor a log to read."""
    uri = uri_of(run_dir) or ""
    try:
        remote = Remote.open(uri)
        publish(run_dir, LOGS)
        if resumable:
            return f"{uri} keeps its checkpoints: --resume {uri} continues it"
        if remote.kind(LOGS) == "dir":
            return (f"the failed run stays in {uri} for its {LOGS}/; start again at another "
                    "--run-dir")
        remote.remove()
        forget(run_dir)
        return f"{uri} held nothing to resume and was removed"
    except RunDirError as exc:
        return f"{uri} is left as it was ({exc})"


def publish_quietly(run_dir: Path, *names: str) -> None:
    """``publish``, a failure only logged: the progress of a long run is not worth its end."""
    try:
        publish(run_dir, *names)
    except RunDirError as exc:
        logger.warning("the progress was not published (it is retried next epoch): %s", exc)


def forget(run_dir: Path) -> None:
    """Drop the mirror of a run at a URI once the command is done with it."""
    if uri_of(run_dir) is not None and Path(run_dir).is_relative_to(cache_dir()):
        shutil.rmtree(run_dir, ignore_errors=True)


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


def checkpoints(run_dir: Path) -> list[str]:
    """The complete Ray Train checkpoints at a mirror's URI, oldest first, as URIs."""
    uri = uri_of(run_dir)
    if uri is None:
        return []
    remote = Remote.open(uri)
    storage = f"{RAY_STORAGE}/train"
    return [joined(remote.uri, f"{storage}/{name}") for name in remote.names(storage)
            if name.startswith("checkpoint_") and
            remote.kind(f"{storage}/{name}/{STATE_FILE}") == "file"]
