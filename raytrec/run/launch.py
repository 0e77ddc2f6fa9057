"""Run a job: in this process (``num_workers: 0``) or on Ray Train workers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from raytrec.errors import RunDirError
from raytrec.run.job import Job
from raytrec.train.artifacts import EMBEDDING_FILES, METRICS_FILE
from raytrec.train.checkpoint import STATE_FILE

RAY_STORAGE = "ray"
MODEL_FILE = "model.pt"


def run_job(job: Job) -> dict[str, Any]:
    """Train (or continue training) ``job``; final files land in its run directory."""
    if job.config["scaling"]["num_workers"] == 0:
        from raytrec.train.loop import local_train_loop
        from raytrec.train.session import LocalSession

        summary = local_train_loop(job.payload())
        _collect(LocalSession(job.run_dir).latest(), job.run_dir)
        return summary
    return _fit_on_ray(job)


def has_checkpoint(run_dir: Path) -> bool:
    """Whether a run directory holds an epoch to resume from (in-process or Ray Train)."""
    from raytrec.train.session import LocalSession

    ray_checkpoints = Path(run_dir) / RAY_STORAGE / "train"
    return (LocalSession(run_dir).latest() is not None
            or any(ray_checkpoints.glob("checkpoint_*/" + STATE_FILE)))


def _collect(checkpoint_dir: Path, run_dir: Path) -> None:
    """Copy the final checkpoint's outputs next to the config, each file replaced whole."""
    names = [METRICS_FILE, *EMBEDDING_FILES.values()]
    for name in names:
        tmp = run_dir / f".{name}.tmp"
        shutil.copyfile(checkpoint_dir / name, tmp)
        tmp.replace(run_dir / name)
    tmp = run_dir / f".{MODEL_FILE}.tmp"
    shutil.copyfile(checkpoint_dir / STATE_FILE, tmp)
    tmp.replace(run_dir / MODEL_FILE)


def _fit_on_ray(job: Job) -> dict[str, Any]:
    from raytrec.run.ray_setup import ensure_ray

    ensure_ray()
    from raytrec.run.progress_callback import ProgressCallback

    trainer = build_trainer(job.payload(), job.run_dir / RAY_STORAGE,
                            [ProgressCallback(str(job.run_dir.resolve()))])
    result = trainer.fit()
    if result.return_value is None:
        raise RunDirError(
            f"training stopped before it finished; continue it with "
            f"raytrec train --resume {job.run_dir}")
    with result.checkpoint.as_directory() as d:
        _collect(Path(d), job.run_dir)
    return result.return_value


def build_trainer(payload: dict[str, Any], storage: Path, callbacks: list[Any]) -> Any:
    """A TorchTrainer of ``payload``'s config; ``fit`` resumes from its last checkpoint in
    ``storage`` when there is one."""
    import ray.train
    from ray.train.torch import TorchConfig, TorchTrainer

    from raytrec.train.loop import ray_train_loop

    scaling = payload["config"]["scaling"]
    return TorchTrainer(
        ray_train_loop,
        train_loop_config=payload,
        torch_config=TorchConfig(backend="nccl" if scaling["use_gpu"] else "gloo"),
        scaling_config=ray.train.ScalingConfig(
            num_workers=scaling["num_workers"], use_gpu=scaling["use_gpu"],
            resources_per_worker={"CPU": scaling["cpus_per_worker"]},
        ),
        run_config=ray.train.RunConfig(
            name="train",
            storage_path=str(Path(storage).resolve()),
            checkpoint_config=ray.train.CheckpointConfig(num_to_keep=2),
            failure_config=ray.train.FailureConfig(max_failures=scaling["max_failures"]),
            callbacks=callbacks,
        ),
    )
