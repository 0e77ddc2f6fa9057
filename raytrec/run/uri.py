"""Where a run lives: a path, or a pyarrow-filesystem URI (``s3://BUCKET/runs/NAME``,
``gs://...``, ``file:///mnt/runs/NAME``) through its local *mirror* under the cache directory
(``$RAYTREC_CACHE_DIR``, else ``~/.cache/raytrec``), whose marker names the URI (``uri_of``).
``Remote`` reads and writes a directory at a URI; ``raytrec.run.store`` says what goes there
and when."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raytrec.errors import RunDirError
from raytrec.layout import STATE_FILE, read_marker

CACHE_ENV = "RAYTREC_CACHE_DIR"
URI_KEY = "uri"  # the marker's key for the URI a mirror stands for
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# What pyarrow opens; checked without opening, which for s3:// already asks the network.
SCHEMES = ("file", "s3", "gs", "gcs", "hdfs", "viewfs", "abfs", "abfss")
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
