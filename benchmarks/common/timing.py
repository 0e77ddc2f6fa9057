"""Timing steps: interleaved rounds after warm-up, and ``implicit``'s BPR as a yardstick."""

from __future__ import annotations

import logging
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from common.steps import Batches, Sizes

logger = logging.getLogger("benchmarks.timing")

Step = Callable[[torch.Tensor, torch.Tensor], Any]


@dataclass
class Measured:
    """Timed steps of one model, summed over rounds."""

    step_seconds: list[float] = field(default_factory=list)
    rounds: list[float] = field(default_factory=list)  # positives/s of each round

    @property
    def seconds(self) -> float:
        return sum(self.step_seconds)

    def rate(self, batch: int) -> float:
        """Positives per second over all timed steps."""
        return len(self.step_seconds) * batch / self.seconds

    def median_rate(self, batch: int) -> float:
        """Positives per second of the median step: less sensitive to bursts of load."""
        return batch / statistics.median(self.step_seconds)


def timed_round(step: Step, batches: Batches, min_seconds: float) -> list[float]:
    """Seconds of each step, stepping until ``min_seconds`` of steps have passed."""
    times: list[float] = []
    while sum(times) < min_seconds:
        users, items = batches.next()
        start = time.perf_counter()
        step(users, items)
        times.append(time.perf_counter() - start)
    return times


def implicit_bpr(users: np.ndarray, items: np.ndarray, sizes: Sizes,
                 threads: int) -> dict[str, Any]:
    """implicit's BPR: an untimed 1-iteration fit sizes the timed one (refit if too short)."""
    import scipy.sparse
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    matrix = scipy.sparse.csr_matrix(
        (np.ones(len(users), dtype=np.float32), (users, items)),
        shape=(sizes.num_users, sizes.num_items))

    def fit(iterations: int) -> float:
        model = BayesianPersonalizedRanking(factors=sizes.dim, iterations=iterations,
                                            num_threads=threads, random_state=0)
        start = time.perf_counter()
        model.fit(matrix, show_progress=False)
        return time.perf_counter() - start

    seconds, iterations = fit(1), 1
    while True:
        iterations = max(2, math.ceil(iterations * 1.2 * sizes.implicit_s / seconds))
        seconds = fit(iterations)
        logger.info("implicit-bpr: %d iterations in %.2f s", iterations, seconds)
        if seconds >= sizes.implicit_s:
            break
    return {"positives_per_s": matrix.nnz * iterations / seconds, "iterations": iterations,
            "positives": int(matrix.nnz), "seconds": seconds}
