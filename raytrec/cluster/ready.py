"""Waiting for a cluster that has just started (``raytrec submit --wait-for-cluster``).

Right after ``ray start --head`` the dashboard refuses connections for a few seconds, then its
job server answers HTTP 500 "No available agent to submit job" for another 30-60 s, until the
head's job agent registers. ``Patience`` asks again on those answers (``NotReady``) only, every
few seconds, for a bounded time: it says once that it waits, and ends with one message that
gives the last answer. Any other error goes through at once; Ctrl-C stops the wait at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from raytrec.cluster.jobs import JobsError, NotReady

DEFAULT_WAIT_S = 120.0
FIRST_PAUSE_S = 1.0
MAX_PAUSE_S = 5.0

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Clock:
    """What waiting reads and calls; a test gives one that does not sleep."""

    now: Callable[[], float]
    sleep: Callable[[float], None]


SYSTEM_CLOCK = Clock(time.monotonic, time.sleep)


class ClusterNotReady(JobsError):
    """The cluster was still not ready when the wait ran out."""


class Patience:
    """Up to ``limit_s`` seconds, over all the calls it makes, spent on a cluster that is not
    ready: the failed attempts and the pauses between them. ``say`` tells the user once."""

    def __init__(self, limit_s: float, say: Callable[[str], None],
                 clock: Clock | None = None) -> None:
        self.limit_s, self.say = limit_s, say
        self.clock = clock or SYSTEM_CLOCK
        self.spent, self.pause, self.told = 0.0, FIRST_PAUSE_S, False

    def call(self, attempt: Callable[[], T]) -> T:
        """``attempt()``, again while it raises ``NotReady`` and time is left."""
        while True:
            started = self.clock.now()
            try:
                return attempt()
            except NotReady as exc:
                self.spent += self.clock.now() - started
                self._wait(exc)

    def _wait(self, exc: NotReady) -> None:
        left = self.limit_s - self.spent
        if left <= 0:
            raise ClusterNotReady(
                f"the Ray cluster at {exc.address} was still not ready after "
                f"{self.limit_s:g} s: its last answer was {exc.reason}; check the cluster with "
                "`ray status` on its head node, or wait longer with --wait-for-cluster "
                "SECONDS") from None
        if not self.told:
            self.say(f"the Ray cluster at {exc.address} is not ready yet ({exc.reason}); "
                     f"waiting up to {self.limit_s:g} s for it, asking again every few "
                     "seconds (Ctrl-C stops)")
            self.told = True
        log.debug("not ready (%s); asking again in %.1f s", exc.reason, self.pause)
        started = self.clock.now()
        self.clock.sleep(min(self.pause, left))
        self.spent += self.clock.now() - started
        self.pause = min(2 * self.pause, MAX_PAUSE_S)
