"""Where a run's files are kept (``RunStore``): raytrec works in a local directory with every
code path of a local run, and ``publish`` makes what was written there visible where the run
lives, as soon as it is written: for a run at a URI (``raytrec.run.mirror``) the marker, the
config and the prepared data when the run is created, the progress each epoch, in-process
checkpoints, the final outputs, and a failed run's ``logs/``; for a run directory that is its
own place, nothing more is needed."""

from __future__ import annotations

import logging
import shutil
from abc import ABC, abstractmethod
from pathlib import Path

from raytrec.errors import RunDirError
from raytrec.interrupts import deferred
from raytrec.layout import LOGS, RAY_STORAGE, STATE_FILE, read_marker
from raytrec.run.run_dir import free_name, replaced
from raytrec.run.uri import Remote, cache_dir, joined, uri_of

logger = logging.getLogger(__name__)


class RunStore(ABC):
    """A run directory ``path`` (local) and the place it stands for (``location``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @staticmethod
    def open(run_dir: Path | str) -> RunStore:
        """The store of a run directory: the mirror of a run at a URI, or the place itself."""
        uri = uri_of(run_dir)
        return MirrorStore(Path(run_dir), uri) if uri else LocalStore(Path(run_dir))

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the run is, as the user named it."""

    @abstractmethod
    def publish(self, *names: str) -> None:
        """Make the files or trees ``names`` of ``path`` visible where the run lives."""

    def publish_quietly(self, *names: str) -> None:
        """``publish``, a failure only logged: the progress of a long run is not worth its
        end."""
        try:
            self.publish(*names)
        except RunDirError as exc:
            logger.warning("the progress was not published (it is retried next epoch): %s", exc)

    @abstractmethod
    def failed(self, resumable: bool) -> str:
        """The run failed: keep what can be resumed or read, remove a new run that holds
        neither; returns a sentence that says what was done."""

    def checkpoints(self) -> list[str]:
        """Ray Train's complete checkpoints kept where the run lives but not in ``path``."""
        return []

    def forget(self) -> None:
        """Drop a local copy once the command is done with it."""
        return None


class LocalStore(RunStore):
    """A run directory that is its own place."""

    @property
    def location(self) -> str:
        return str(self.path)

    def publish(self, *names: str) -> None:
        return None

    @deferred()
    def failed(self, resumable: bool) -> str:
        """Put back the run this one replaced, or remove a new run that holds nothing to
        resume (``resumable`` False). A failed run that logged its error is kept, beside the
        restored one as ``<name>.failed``."""
        run_dir = self.path
        logged = (run_dir / LOGS).is_dir()
        old = replaced(run_dir)
        if old is not None:
            if logged:
                aside = free_name(run_dir.parent, f"{run_dir.name}.failed")
                run_dir.rename(aside)
                kept = f"; the failed run, with its {LOGS}/, is in {aside}"
            else:
                shutil.rmtree(run_dir)
                kept = ""
            old.rename(run_dir)
            return f"the earlier run in {run_dir} is kept as it was{kept}"
        if resumable:
            return (f"{run_dir} keeps its checkpoints: --resume {run_dir} continues it, "
                    "--overwrite starts again")
        if logged:
            return f"the failed run stays in {run_dir} for its {LOGS}/; --overwrite replaces it"
        if read_marker(run_dir) is not None:
            shutil.rmtree(run_dir)
            return f"{run_dir} held nothing to resume and was removed"
        return f"{run_dir} is left as it was"


class MirrorStore(RunStore):
    """The local mirror of a run at ``uri``."""

    def __init__(self, path: Path, uri: str) -> None:
        super().__init__(path)
        self.uri = uri

    @property
    def location(self) -> str:
        return self.uri

    def publish(self, *names: str) -> None:
        remote = Remote.open(self.uri)
        for name in names:
            local = self.path / name
            if local.is_dir():
                remote.sync(local, name)
            elif local.is_file():
                remote.put(local, name)

    @deferred()
    def failed(self, resumable: bool) -> str:
        """Its ``logs/`` published; the run at the URI removed when it holds neither a
        checkpoint to resume nor a log to read."""
        uri = self.uri
        try:
            remote = Remote.open(uri)
            self.publish(LOGS)
            if resumable:
                return f"{uri} keeps its checkpoints: --resume {uri} continues it"
            if remote.kind(LOGS) == "dir":
                return (f"the failed run stays in {uri} for its {LOGS}/; start again at another "
                        "--run-dir")
            remote.remove()
            self.forget()
            return f"{uri} held nothing to resume and was removed"
        except RunDirError as exc:
            return f"{uri} is left as it was ({exc})"

    def checkpoints(self) -> list[str]:
        """The complete Ray Train checkpoints at the URI, oldest first, as URIs."""
        remote = Remote.open(self.uri)
        storage = f"{RAY_STORAGE}/train"
        return [joined(remote.uri, f"{storage}/{name}") for name in remote.names(storage)
                if name.startswith("checkpoint_") and
                remote.kind(f"{storage}/{name}/{STATE_FILE}") == "file"]

    def forget(self) -> None:
        if self.path.is_relative_to(cache_dir()):
            shutil.rmtree(self.path, ignore_errors=True)
