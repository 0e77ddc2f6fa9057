"""What preparation on the cluster tells its user while it runs: one line per stage on the
``raytrec.prepare`` logger, at INFO (``raytrec train`` shows the latest beside a spinner,
``raytrec.cli.preparing``), while Ray Data's own lines stay in its log under the Ray
session's ``logs/ray-data`` unless debugging (``--debug`` shows them all): a stage that fails
reaches the user as its exception (a bad file's ``DataError``: one line), not as Ray Data's
report of it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from raytrec.debug import debugging

logger = logging.getLogger("raytrec.prepare")

# Ray Data's console handler (its logging config names it) and its one-off notice that
# progress bars are off (``raytrec.run.ray_setup`` turns them off: raytrec shows its own).
CONSOLE_HANDLER = "console"
PROGRESS_NOTICE = "ray_data_progress_manager_disabled"


def stage(text: str) -> None:
    """Tell the user the stage that begins."""
    logger.info(text)


@contextmanager
def quiet_ray_data() -> Iterator[None]:
    """Ray Data's console lines (a dataset's plan, start and end, a failed task's trace) off
    the console meanwhile; its log file keeps them."""
    if debugging():
        yield
        return
    from ray.util.debug import log_once

    log_once(PROGRESS_NOTICE)  # spent here: the notice never prints
    handlers = [h for h in logging.getLogger("ray.data").handlers if h.name == CONSOLE_HANDLER]
    levels = [h.level for h in handlers]
    for handler in handlers:
        handler.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for handler, level in zip(handlers, levels, strict=True):
            handler.setLevel(level)
