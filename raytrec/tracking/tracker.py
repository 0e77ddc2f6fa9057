"""What a tracking backend does, and how one is opened.

A ``Tracker`` is one tracked run. Every call is best effort: the first failure is one
warning, after which the tracker does nothing, so that a run never fails for its logging.
Opening one that cannot start (a server that is down or refuses) gives ``None`` and a
warning; a backend whose package is missing is a config problem naming the extra before
anything runs (``config.validate``).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from raytrec.config.sections import TrackingSection

logger = logging.getLogger(__name__)

class Tracker(ABC):
    """One tracked run. ``run_id`` names it for ``open_tracker(..., run_id=...)``."""

    run_id: str

    def __init__(self) -> None:
        self._broken = False

    def log_params(self, params: dict[str, str]) -> None:
        self._safely(self._log_params, params)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if metrics:
            self._safely(self._log_metrics, metrics, step)

    def set_tags(self, tags: dict[str, str]) -> None:
        self._safely(self._set_tags, tags)

    def finish(self, status: str) -> None:
        """End the run: ``FINISHED``, ``KILLED`` (interrupted, stopped by the scheduler) or
        ``FAILED``."""
        self._safely(self._finish, status)

    def _safely(self, call: Callable[..., None], *args: Any) -> None:
        if self._broken:
            return
        try:
            call(*args)
        except Exception as exc:  # a logging problem never fails the run
            self._broken = True
            logger.warning("tracking stopped: %s (%s); the run goes on untracked",
                           type(exc).__name__, _first_line(exc))

    @abstractmethod
    def _log_params(self, params: dict[str, str]) -> None: ...

    @abstractmethod
    def _log_metrics(self, metrics: dict[str, float], step: int) -> None: ...

    @abstractmethod
    def _set_tags(self, tags: dict[str, str]) -> None: ...

    @abstractmethod
    def _finish(self, status: str) -> None: ...


def open_tracker(section: TrackingSection, name: str, experiment: str, where: str,
                 log_dir: str, run_id: str | None = None, parent: str | None = None,
                 next_step: int = 0, running: bool = True) -> Tracker | None:
    """The tracked run ``name``, or None with one warning when the backend cannot start it.

    ``experiment``: MLflow's experiment when the section names none; ``where``: what is
    tracked (the run directory), for the message; ``log_dir``: TensorBoard's folder for this
    run; ``run_id``: the tracked run to continue (its steps from ``next_step`` on are written
    again); ``parent``: the run to nest it under."""
    if section.backend == "none":
        return None
    try:
        if section.backend == "mlflow":
            from raytrec.tracking.mlflow_tracker import MlflowTracker

            return MlflowTracker(section.uri, section.experiment or experiment, name, run_id,
                                 parent, running)
        from raytrec.tracking.tensorboard_tracker import TensorboardTracker

        return TensorboardTracker(log_dir, next_step)
    except Exception as exc:
        logger.warning("%s is not tracked: %s refused (%s: %s); the run goes on untracked",
                       where, section.backend, type(exc).__name__, _first_line(exc))
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""
