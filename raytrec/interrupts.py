"""Ctrl-C and SIGTERM stop a command the same way, never in the middle of a write.

SIGTERM is what a scheduler, ``timeout``, ``kill`` and Ray Jobs' stop send. The command line
(``handled``) handles it as Ctrl-C: by whatever handles SIGINT at that moment (Python's
KeyboardInterrupt, or Ray Tune's graceful stop during a search). Ray's ``ray.init`` puts its
own SIGTERM handler in place, and its C++ core prints a stack dump on SIGTERM: ``reinstall``
puts raytrec's back after Ray starts.

SIGHUP, sent when the terminal that runs the command closes, is handled as SIGTERM.

A signal that arrives inside ``deferred()`` (a checkpoint being copied into the run directory,
the final outputs, a directory being put in place) is held until the section ends, so that a
stopped run leaves no half-written file; a second signal inside the section acts at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_state = {"installed": False, "depth": 0, "pending": 0}
# SIGHUP (the terminal that ran the command was closed) stops a run as SIGTERM does.
STOPS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    if _state["depth"] and not _state["pending"]:
        _state["pending"] = signum
        return
    raise KeyboardInterrupt


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler) and handler is not _on_sigterm:
        handler(signal.SIGINT, frame)
    else:
        _on_sigint(signum, frame)


@contextmanager
def handled() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP as described above while the body runs (a command of the CLI, in
    the main thread); the handlers before it are put back after it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {sig: signal.getsignal(sig) for sig in STOPS}
    for sig in STOPS:
        signal.signal(sig, _on_sigint if sig == signal.SIGINT else _on_sigterm)
    _state["installed"] = True
    try:
        yield
    finally:
        _state["installed"] = False
        for sig, handler in before.items():
            signal.signal(sig, handler)


def reinstall() -> None:
    """After ``ray.init``: raytrec's SIGTERM handling again, inside ``handled``."""
    if _state["installed"] and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM until the body is done; then stop as they asked."""
    _state["depth"] += 1
    try:
        yield
    finally:
        _state["depth"] -= 1
        pending = 0 if _state["depth"] else _state["pending"]
        if pending:
            _state["pending"] = 0
    if pending:  # only when the body ended well: an error in it goes on as it is
        raise KeyboardInterrupt


def settle() -> None:
    """After a command is done, while Ray shuts down at exit: a late Ctrl-C, SIGTERM or SIGHUP
    is let go (the work is written), rather than cut the clean-up short or kill the process
    with nothing said."""
    if threading.current_thread() is threading.main_thread():
        for sig in STOPS:
            signal.signal(sig, signal.SIG_IGN)
