"""The ``tune:`` section: how many trials, which scheduler and search algorithm, resources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from raytrec.errors import ArgumentError


@dataclass
class TuneSection:
    """How the search runs.

    Attributes:
        num_samples: trials to run.
        max_concurrent_trials: trials running at once; default: as many as the resources fit.
        metric: the validation metric to optimise, e.g. ``recall@50``; default ``eval.metric``
            (which it replaces: each trial's best epoch is picked by the same metric).
        mode: ``max`` or ``min`` of the metric.
        scheduler: ``asha`` stops trials whose metric trails the others' at the same epoch;
            ``fifo`` runs every trial to its end (or its own early stopping).
        grace_period: epochs every trial runs before ASHA may stop it.
        reduction_factor: ASHA keeps the best 1/reduction_factor of trials at each rung.
        algorithm: ``optuna`` (TPE, learns from finished trials) or ``random``.
        seed: seeds the search algorithm; same seed, same sequence of trials.
        cpus_per_trial: CPUs reserved by each trial's own process. Default: the worker's
            (``scaling.cpus_per_worker``) when the trial trains itself (``scaling.num_workers``
            0 or 1), else 0.5 (it only drives its Ray Train workers).
        gpus_per_trial: GPUs of a trial that trains itself; default 1 with
            ``scaling.use_gpu``, else 0.
        include_default: the first trial trains the config's own values of the searched keys
            (``raytrec.tune.default_trial``), so the end of the search compares the best
            trial with the config as given.
        time_budget_s: end the search after this many seconds of wall time: no trial starts
            after it, and the running ones are stopped (as ASHA stops a trial: they count
            with the best validation epoch they reached, but only a trial that finished can
            be the best). Default: no limit, the search ends after ``num_samples`` trials.
    """

    num_samples: int = 10
    max_concurrent_trials: int | None = None
    metric: str | None = None
    mode: Literal["max", "min"] = "max"
    scheduler: Literal["asha", "fifo"] = "asha"
    grace_period: int = 3
    reduction_factor: int = 3
    algorithm: Literal["optuna", "random"] = "optuna"
    seed: int = 0
    cpus_per_trial: float | None = None
    gpus_per_trial: float | None = None
    include_default: bool = True
    time_budget_s: float | None = None

    def __post_init__(self) -> None:
        if self.num_samples < 1:
            raise ArgumentError("num_samples", f"must be >= 1, got {self.num_samples}")
        if self.max_concurrent_trials is not None and self.max_concurrent_trials < 1:
            raise ArgumentError("max_concurrent_trials", "must be >= 1 or null, got "
                                f"{self.max_concurrent_trials}")
        if self.grace_period < 1:
            raise ArgumentError("grace_period", f"must be >= 1, got {self.grace_period}")
        if self.reduction_factor < 2:
            raise ArgumentError("reduction_factor", f"must be >= 2, got {self.reduction_factor}")
        if self.cpus_per_trial is not None and self.cpus_per_trial <= 0:
            raise ArgumentError("cpus_per_trial", f"must be > 0, got {self.cpus_per_trial}")
        if self.gpus_per_trial is not None and self.gpus_per_trial < 0:
            raise ArgumentError("gpus_per_trial", f"must be >= 0, got {self.gpus_per_trial}")
        if self.time_budget_s is not None and self.time_budget_s <= 0:
            raise ArgumentError("time_budget_s", f"must be > 0 or null, got {self.time_budget_s}")
