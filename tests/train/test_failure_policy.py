"""Ray Train retries a lost worker, never an error raytrec raised itself."""

from __future__ import annotations

import pytest

pytest.importorskip("ray.train")

from ray.exceptions import ActorDiedError, RayTaskError
from ray.train import ControllerError, FailureConfig, WorkerGroupError
from ray.train.v2._internal.exceptions import (
    WorkerGroupStartupFailedError,
    WorkerGroupStartupTimeoutError,
)
from ray.train.v2._internal.execution.failure_handling.failure_policy import (
    FailureDecision,
)

from raytrec.config.sections import ScalingSection
from raytrec.errors import ComponentError, TrainingDiverged
from raytrec.run.failure_policy import RaytrecFailurePolicy


def _task_error(cause: Exception) -> RayTaskError:
    return RayTaskError("train_fn", "Traceback ...", cause)


def _group_error(**failures: Exception) -> WorkerGroupError:
    return WorkerGroupError("failed", {int(rank[1:]): exc for rank, exc in failures.items()})


def test_a_lost_worker_is_retried_up_to_max_failures() -> None:
    policy = RaytrecFailurePolicy(FailureConfig(max_failures=2))
    lost = _group_error(r1=ActorDiedError())
    assert [policy.make_decision(lost) for _ in range(3)] == [
        FailureDecision.RETRY, FailureDecision.RETRY, FailureDecision.RAISE]


def test_a_raytrec_error_is_raised_at_once() -> None:
    policy = RaytrecFailurePolicy(FailureConfig(max_failures=3))
    diverged = _group_error(r0=_task_error(TrainingDiverged("loss is nan at epoch 2")),
                            r1=_task_error(ComponentError("loss 'x' failed")))
    assert policy.make_decision(diverged) == FailureDecision.RAISE


def test_a_raytrec_error_beside_a_lost_worker_is_retried() -> None:
    """When one rank dies the others fail too; the death decides."""
    policy = RaytrecFailurePolicy(FailureConfig(max_failures=3))
    mixed = _group_error(r0=_task_error(ComponentError("peer closed")), r1=ActorDiedError())
    assert policy.make_decision(mixed) == FailureDecision.RETRY


def test_runs_survive_a_lost_worker_by_default() -> None:
    assert ScalingSection().max_failures > 0


def test_a_worker_lost_during_start_up_is_retried_up_to_max_failures() -> None:
    """A worker killed while the group starts (after a restart too) is a lost worker."""
    policy = RaytrecFailurePolicy(FailureConfig(max_failures=2))
    lost = ControllerError(WorkerGroupStartupFailedError("actor died during start-up"))
    assert [policy.make_decision(lost) for _ in range(3)] == [
        FailureDecision.RETRY, FailureDecision.RETRY, FailureDecision.RAISE]


def test_a_start_up_that_timed_out_is_not_retried() -> None:
    policy = RaytrecFailurePolicy(FailureConfig(max_failures=3))
    timed_out = ControllerError(WorkerGroupStartupTimeoutError(num_workers=2))
    assert policy.make_decision(timed_out) == FailureDecision.RAISE
