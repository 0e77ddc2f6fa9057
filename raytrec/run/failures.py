"""A failure in the training loop, in this process or in a Ray Train worker, as one raytrec
message: which component failed (found from the traceback), the cause, where the full
traceback is kept, and the fix."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from raytrec.errors import ComponentError, RaytrecError
from raytrec.layout import LOGS
from raytrec.run.uri import Remote, is_uri, joined

logger = logging.getLogger(__name__)


def blame(tb: TracebackType | None) -> str | None:
    """``loss 'boom' (boom-plugin 0.1)`` for the innermost frame that runs a registered
    component's code, or None when no component's code is on the stack."""
    from raytrec.plugins import get_registry

    by_module: dict[str, str] = {}
    for entry in get_registry().entries():
        by_module.setdefault(entry.cls.__module__,
                             f"{entry.kind} '{entry.name}' ({entry.distribution} "
                             f"{entry.version})")
    found = None
    for frame, _ in traceback.walk_tb(tb):
        found = by_module.get(frame.f_globals.get("__name__", ""), found)
    return found


@contextmanager
def reported(run_dir: str | Path, rank: int, where: str) -> Iterator[None]:
    """Turn an unexpected exception into a ComponentError (a raytrec error, which pickles to
    the driver whole), with its full traceback written to ``<run_dir>/logs/`` (``run_dir``
    may be a run's URI). A failed exchange with another worker (``torch.distributed.DistError``:
    a peer died) stays as it is, so that Ray Train restarts the workers
    (``raytrec.run.failure_policy``)."""
    from torch.distributed import DistError

    try:
        yield
    except (RaytrecError, DistError):
        raise
    except Exception as exc:
        details = "".join(traceback.format_exception(exc))
        kept = _keep(run_dir, f"{LOGS}/error-rank{rank}.log", details)
        cause = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        who = blame(exc.__traceback__)
        fix = "fix or uninstall that plugin" if who and "(raytrec " not in who \
            else "please report it with that traceback"
        raise ComponentError(f"{who or 'raytrec'} failed {where}: {cause}; {kept}; {fix}",
                             details) from exc


def _keep(run_dir: str | Path, name: str, details: str) -> str:
    """Write a traceback into the run directory; says where it went."""
    try:
        if is_uri(run_dir):
            Remote.open(str(run_dir)).write_text(name, details)
            return f"the full traceback is in {joined(str(run_dir), name)}"
        log = Path(run_dir) / name
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(details)
        return f"the full traceback is in {log}"
    except (OSError, RaytrecError):
        return "the traceback could not be saved"
