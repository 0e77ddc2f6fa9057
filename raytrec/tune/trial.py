"""One Tune trial: the training loop of ``raytrec train``, launched one of two ways.

A trial of ``scaling.num_workers`` 0 or 1 runs the loop in its own process (a Tune function
trial starts in 1-2 s); with 2+ workers it builds and fits a Ray Train TorchTrainer (about 20 s
of start-up), whose rank 0 reports reach Tune through a callback. Same loop, same seed, same
result either way.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from raytrec.config.run_config import RunConfig
from raytrec.train.session import load_reported, resolve_device
from raytrec.train.shard_state import Placement
from raytrec.tune.plan import Plan

logger = logging.getLogger(__name__)


def trains_itself(config: RunConfig) -> bool:
    return config.scaling.num_workers <= 1


def trial_resources(plan: Plan) -> dict[str, float]:
    """What Tune reserves for each trial's own process (Ray Train workers reserve theirs)."""
    scaling, settings = plan.base.scaling, plan.settings
    itself = trains_itself(plan.base)
    cpu = settings.cpus_per_trial or (scaling.cpus_per_worker if itself else 0.5)
    gpu = settings.gpus_per_trial
    if gpu is None:
        gpu = 1.0 if itself and scaling.use_gpu else 0.0
    return {"cpu": float(cpu), "gpu": float(gpu)}


def trial_threads(plan: Plan, config: RunConfig) -> int | None:
    """torch's thread count in a trial that trains itself: ``train.threads``, else its CPUs."""
    if not trains_itself(config):
        return config.train.threads
    return config.train.threads or max(1, int(trial_resources(plan)["cpu"]))


class TuneSession:
    """The loop inside a Tune trial: reports and checkpoints go to Tune.

    Only reports that carry the searched metric reach Tune: schedulers and search algorithms
    read it from every result (epochs between ``eval.every`` evaluations are skipped).
    """

    rank = 0
    world_size = 1

    def __init__(self, device: str, metric_key: str) -> None:
        self.device = resolve_device(device)
        self.metric_key = metric_key

    def prepare(self, module: torch.nn.Module, ignore: tuple[str, ...] = ()) -> torch.nn.Module:
        return module.to(self.device)

    def load_state(self, placement: Placement | None = None,
                   tables: dict[str, int] | None = None) -> dict[str, Any] | None:
        from ray import tune

        return load_reported(tune.get_checkpoint(), placement, tables)

    def report(self, metrics: dict[str, Any], checkpoint_dir: Path | None) -> None:
        from ray import tune

        if self.metric_key not in metrics:
            return
        checkpoint = tune.Checkpoint.from_directory(str(checkpoint_dir)) if checkpoint_dir \
            else None
        tune.report(metrics, checkpoint=checkpoint)


def run_trial(values: dict[str, Any], plan: Plan, data_dir: str) -> None:
    """The Tune function trainable; ``values`` are this trial's draws of the search space."""
    from ray import tune

    from raytrec.debug import debugging

    if not debugging():
        logging.getLogger().setLevel(logging.WARNING)
    config, notes = plan.trial_config(plan.decode(values))
    for note in notes:
        logger.warning("%s", note)
    trial_dir = Path(tune.get_context().get_trial_dir())
    payload = {"config": config, "run_dir": str(trial_dir), "data_dir": data_dir}
    if trains_itself(config):
        from raytrec.train.loop import train_loop

        torch.set_num_threads(trial_threads(plan, config))
        train_loop(payload, TuneSession(config.train.device, plan.metric_key))
        return
    from raytrec.run.ray_fit import build_trainer, fit

    callback = _metric_report_callback(plan.metric_key)
    # Resumes from its own last checkpoint under the trial directory when the search resumes.
    fit(build_trainer(payload, trial_dir / "ray", [callback]), config.scaling)


def _metric_report_callback(metric_key: str) -> Any:
    """Tune's Train-to-Tune callback, passing on only reports that carry the metric."""
    from ray.tune.integration.ray_train import TuneReportCallback

    class MetricReportCallback(TuneReportCallback):
        def after_report(self, run_context: Any, metrics: list[dict[str, Any]],
                         checkpoint: Any) -> None:
            if metrics and metric_key in metrics[0]:
                super().after_report(run_context, metrics, checkpoint)

    return MetricReportCallback()
