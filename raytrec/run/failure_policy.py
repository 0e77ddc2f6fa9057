"""Which worker failures Ray Train retries: a lost worker (its process killed, its node gone,
an out-of-memory kill) restarts the worker group from the last checkpoint, up to
``scaling.max_failures`` times; an error raytrec raised itself (a diverged loss, a component's
bug, bad data) is raised at once, because a restart from the same checkpoint and seed would
only repeat it."""

from __future__ import annotations

from ray.train import ControllerError, FailureConfig, WorkerGroupError
from ray.train.v2._internal.exceptions import (
    WorkerGroupStartupFailedError,
    WorkerGroupStartupTimeoutError,
)
from ray.train.v2._internal.execution.failure_handling import create_failure_policy
from ray.train.v2._internal.execution.failure_handling.failure_policy import (
    FailureDecision,
    FailurePolicy,
)
from ray.train.v2.api.exceptions import TrainingFailedError

from raytrec.errors import RaytrecError


def deterministic(failures: dict[int, BaseException]) -> bool:
    """Whether every failed worker raised a raytrec error (a retry would fail the same way)."""
    causes = [getattr(f, "cause", f) for f in failures.values()]
    return bool(causes) and all(isinstance(c, RaytrecError) for c in causes)


class RaytrecFailurePolicy(FailurePolicy):
    """Ray Train's default policy, except that deterministic failures are raised at once."""

    def __init__(self, failure_config: FailureConfig) -> None:
        super().__init__(failure_config)
        self.default = create_failure_policy(failure_config)
        self.startup_failures = 0

    def make_decision(self, training_failed_error: TrainingFailedError) -> FailureDecision:
        if isinstance(training_failed_error, WorkerGroupError) and deterministic(
                training_failed_error.worker_failures):
            return FailureDecision.RAISE
        failure = getattr(training_failed_error, "controller_failure", None)
        if isinstance(failure, WorkerGroupStartupTimeoutError):
            # The cluster lacks the resources asked for: waiting again would time out again.
            return FailureDecision.RAISE
        if isinstance(training_failed_error, ControllerError) and isinstance(
                failure, WorkerGroupStartupFailedError):
            # A worker lost while the group starts (after a restart too) is a lost worker.
            self.startup_failures += 1
            limit = self.failure_config.max_failures
            return (FailureDecision.RETRY if limit == -1 or self.startup_failures <= limit
                    else FailureDecision.RAISE)
        return self.default.make_decision(training_failed_error)
