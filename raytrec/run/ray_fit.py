"""Fitting a Ray Train ``TorchTrainer``: start-up bounded in time, Ctrl-C that works, and the
errors of workers and of the controller as raytrec messages."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from raytrec.config.sections import ScalingSection
from raytrec.errors import RaytrecError

logger = logging.getLogger(__name__)

START_TIMEOUT_ENV = "RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S"
# After Ctrl-C, how long the controller may take to stop the workers before it is killed (a
# controller still waiting for the workers' resources does not answer at all).
ABORT_TIMEOUT_S = 10.0


class StartTimeout(RaytrecError):
    """Ray Train's workers did not get their resources in time."""


def build_trainer(payload: dict[str, Any], storage: Path | str, callbacks: list[Any],
                  filesystem: Any = None) -> Any:
    """A TorchTrainer of ``payload``'s config; ``fit`` resumes from its last checkpoint in
    ``storage`` when there is one: a local path, or a path in the pyarrow ``filesystem``."""
    import ray.train
    from ray.train.torch import TorchConfig, TorchTrainer

    from raytrec.run.worker import ray_train_loop

    class Trainer(TorchTrainer):
        """Keeps the controller instead of installing Ray's SIGINT handler, whose blocking
        ``ray.get`` inside the handler made Ctrl-C do nothing while workers waited to start;
        retries only lost workers (``raytrec.run.failure_policy``)."""

        controller: Any = None

        def _register_sigint_handler(self, controller: Any) -> None:
            self.controller = controller

        def _initialize_and_run_controller(self, **kwargs: Any) -> Any:
            from raytrec.run.failure_policy import RaytrecFailurePolicy

            kwargs["failure_policy"] = RaytrecFailurePolicy(self.run_config.failure_config)
            return super()._initialize_and_run_controller(**kwargs)

    scaling = payload["config"].scaling
    # The controller reads it from the environment this process passes on to it.
    os.environ[START_TIMEOUT_ENV] = str(scaling.start_timeout_s)
    return Trainer(
        ray_train_loop,
        train_loop_config=payload,
        torch_config=TorchConfig(backend="nccl" if scaling.use_gpu else "gloo"),
        scaling_config=ray.train.ScalingConfig(
            num_workers=scaling.num_workers, use_gpu=scaling.use_gpu,
            resources_per_worker={"CPU": scaling.cpus_per_worker},
        ),
        run_config=ray.train.RunConfig(
            name="train",
            storage_path=str(storage) if filesystem else str(Path(storage).resolve()),
            storage_filesystem=filesystem,
            checkpoint_config=ray.train.CheckpointConfig(num_to_keep=2),
            # A start-up that timed out is an error, not a retry without end.
            failure_config=ray.train.FailureConfig(max_failures=scaling.max_failures,
                                                   controller_failure_limit=0),
            callbacks=callbacks,
        ),
    )


def fit(trainer: Any, scaling: ScalingSection) -> Any:
    """``trainer.fit()``; Ctrl-C asks the controller to stop the workers, kills it when it has
    not within ``ABORT_TIMEOUT_S`` (or at a second Ctrl-C), and re-raises."""
    import ray
    from ray.train import ControllerError, WorkerGroupError

    try:
        return trainer.fit()
    except KeyboardInterrupt:
        controller = getattr(trainer, "controller", None)
        if controller is not None:
            try:
                ray.get(controller.abort.remote(), timeout=ABORT_TIMEOUT_S)
            except (KeyboardInterrupt, Exception):  # stuck, gone, or a second Ctrl-C
                logger.debug("the Ray Train controller did not stop in time; killing it")
                ray.kill(controller)  # its workers go with it
        raise
    except WorkerGroupError as exc:
        cause = _raytrec_cause(exc.worker_failures.values())
        if cause is not None:
            raise cause from None
        lost = "; ".join(f"worker {rank}: {str(f).strip().splitlines()[0]}"
                         for rank, f in sorted(exc.worker_failures.items()))
        raise RaytrecError(f"the Ray Train workers failed more than scaling.max_failures="
                           f"{scaling.max_failures} times ({lost}); raise it, or see what "
                           "kills them (memory, preemption) in Ray's logs") from exc
    except ControllerError as exc:
        if type(exc.controller_failure).__name__ == "WorkerGroupStartupTimeoutError":
            raise StartTimeout(_start_timeout_message(scaling)) from None
        raise RaytrecError(f"Ray Train stopped: {exc.controller_failure}") from exc


def _raytrec_cause(failures: Any) -> RaytrecError | None:
    """The raytrec error a worker raised (Ray wraps it in a RayTaskError), if any."""
    for failure in failures:
        cause = getattr(failure, "cause", failure)
        if isinstance(cause, RaytrecError):
            return cause
    return None


def _start_timeout_message(scaling: ScalingSection) -> str:
    import ray

    total = ray.cluster_resources().get("CPU", 0)
    free = ray.available_resources().get("CPU", 0)
    return (f"the {scaling.num_workers} Ray Train workers ({scaling.cpus_per_worker:g} CPU "
            f"each) did not start within {scaling.start_timeout_s:g} s "
            f"(scaling.start_timeout_s): the cluster has {total:g} CPUs, {free:g} free now. "
            "Free them (other runs or actors), lower scaling.num_workers, or raise "
            "scaling.start_timeout_s")
