"""One writer per run, tune or export directory.

A command that writes a directory holds an exclusive ``flock`` on a lock file beside it,
``.<name>.lock`` in the same parent, for as long as it writes. The file sits beside the
directory rather than in it because ``--overwrite`` renames the directory away and stages a
new one in its place; a lock inside would move with the old one. The kernel drops the lock
when its process dies, however it dies (SIGKILL too), so a lock of a dead process never
blocks: the file it leaves is taken over by the next writer. The holder writes who it is
(pid, host, command, since when) into the file, for the message a second writer gets.

What this protects: writers on one machine, and writers on several machines of a file system
whose ``flock`` is shared between its clients (Linux NFSv4 and CephFS, Lustre mounted with
``flock``). It does not protect a directory on a file system that keeps ``flock`` local to
each client (NFSv3 with ``local_lock``, some FUSE mounts), nor a run at a URI written from
two machines: there the lock is on the local mirror (``raytrec.run.mirror``), which protects
only the writers on this machine.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from raytrec.errors import RunDirError
from raytrec.run.run_dir import missing_parents, remove_empty


def lock_path(directory: Path) -> Path:
    """The lock file of ``directory`` (an absolute, link-free path)."""
    return directory.parent / f".{directory.name}.lock"


@contextmanager
def writing(directory: Path, what: str = "run directory", flag: str = "--run-dir",
            shown: str | None = None, command: str | None = None) -> Iterator[None]:
    """Hold ``directory``'s lock while the body writes it; RunDirError, with nothing touched,
    when another process holds it. ``shown`` is the directory as the user named it,
    ``command`` the command that writes it (default: this process's arguments)."""
    directory = Path(os.path.realpath(directory))
    shown = shown or str(directory)
    made = missing_parents(directory)
    path = lock_path(directory)
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        fd = _acquire(path)
    except OSError as exc:
        remove_empty(made)
        raise RunDirError(f"{flag} {shown}: cannot create it ({exc.strerror or exc}); choose "
                          f"a {flag} where you can write") from exc
    except BaseException:
        remove_empty(made)
        raise
    if fd is None:
        remove_empty(made)
        raise RunDirError(f"{what} {shown} is being written by another raytrec process "
                          f"({describe_holder(path)}); wait for it to end, stop it, or "
                          f"choose another {flag}")
    try:
        _write_holder(fd, command or shlex.join(sys.argv))
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while still held: a waiter that opened it sees it is gone
        os.close(fd)
        remove_empty(made)


def _acquire(path: Path) -> int | None:
    """An open descriptor of ``path`` holding its exclusive lock, or None when another
    process holds it."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EACCES):
                return None
            raise
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder we waited on removed the file as it released it: again


def _write_holder(fd: int, command: str) -> None:
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
              "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(holder).encode(), 0)


def describe_holder(path: Path) -> str:
    """``pid 12 on host h, `raytrec train c.yaml`, since 2026-12-05 11:50:35``."""
    try:
        holder = json.loads(path.read_text())
        return (f"pid {holder['pid']} on host {holder['host']}, `{holder['command']}`, since "
                f"{holder['since']}")
    except (OSError, ValueError, KeyError, TypeError):
        return "it has not said who it is yet"

