"""Run a job: in this process (``num_workers: 0``) or on Ray Train workers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from raytrec.errors import RunDirError
from raytrec.run import remote
from raytrec.run.job import Job
from raytrec.run.run_dir import RAY_STORAGE
from raytrec.train.artifacts import METRICS_FILE
from raytrec.train.checkpoint import STATE_FILE, damage

MODEL_FILE = "model.pt"


def run_job(job: Job) -> dict[str, Any]:
    """Train (or continue training) ``job``; final files land in its run directory."""
    if job.config["scaling"]["num_workers"] == 0:
        from raytrec.train.loop import local_train_loop
        from raytrec.train.session import LocalSession

        summary = local_train_loop(job.payload())
        _collect(LocalSession(job.run_dir).latest(), job.run_dir, outputs(job.config))
        return summary
    return _fit_on_ray(job)


def outputs(config: dict[str, Any]) -> list[str]:
    """The files a finished run leaves beside its config: the metrics, the task's outputs
    (``Task.outputs``) and the model."""
    from raytrec.train.build import build_task

    return [METRICS_FILE, *build_task(config).outputs, MODEL_FILE]


def checkpoint_dirs(run_dir: Path) -> list[Path]:
    """The run's complete checkpoints, in-process and Ray Train ones, oldest first."""
    local = sorted((Path(run_dir) / "checkpoints").glob("checkpoint_*"))
    ray = sorted((Path(run_dir) / RAY_STORAGE / "train").glob("checkpoint_*"))
    return [d for d in [*local, *ray] if (d / STATE_FILE).exists()]


def has_checkpoint(run_dir: Path) -> bool:
    """Whether a run directory (or the run at its mirror's URI) holds an epoch to resume
    from."""
    return bool(checkpoint_dirs(run_dir) or remote.checkpoints(run_dir))


def check_resumable(run_dir: Path) -> list[str]:
    """Before resuming: a note per damaged checkpoint (the run resumes from the newest intact
    one), or RunDirError naming each file when every one is damaged."""
    dirs = checkpoint_dirs(run_dir)
    damaged = [(d / STATE_FILE, why) for d in dirs if (why := damage(d / STATE_FILE))]
    if dirs and len(damaged) == len(dirs):
        raise RunDirError("no checkpoint can be read: " + "; ".join(
            f"{path}: {why}" for path, why in damaged) + "; start the run again with "
            "raytrec train CONFIG --overwrite")
    return [f"checkpoint {path} is damaged ({why}); resuming from the one before it"
            for path, why in damaged]


def resume_point(run_dir: Path) -> Path | str | None:
    """The checkpoint a resumed run starts from: the newest one not visibly damaged (Ray
    Train's at a URI are not read here: a damaged one is passed over when it is loaded)."""
    intact = [d for d in checkpoint_dirs(run_dir) if not damage(d / STATE_FILE)]
    found: list[Path | str] = [*intact, *remote.checkpoints(run_dir)]
    return found[-1] if found else None


def _collect(checkpoint_dir: Path, run_dir: Path, names: list[str]) -> None:
    """Copy the final checkpoint's outputs ``names`` next to the config, each file replaced
    whole, and publish them to the run's URI when it has one."""
    for name in names:
        tmp = run_dir / f".{name}.tmp"
        shutil.copyfile(checkpoint_dir / (STATE_FILE if name == MODEL_FILE else name), tmp)
        tmp.replace(run_dir / name)
    remote.publish(run_dir, *names)


def _fit_on_ray(job: Job) -> dict[str, Any]:
    from raytrec.run.ray_setup import ensure_ray

    ensure_ray()
    from raytrec.run.progress_callback import ProgressCallback
    from raytrec.run.ray_fit import build_trainer, fit
    from raytrec.run.resources import check_resources

    scaling = job.config["scaling"]
    check_resources(scaling, str(job.run_dir / "config.yaml"))
    uri = remote.uri_of(job.run_dir)
    store = remote.Remote.open(uri) if uri else None
    trainer = build_trainer(job.payload(),
                            store.path(RAY_STORAGE) if store else job.run_dir / RAY_STORAGE,
                            [ProgressCallback(str(job.run_dir.resolve()))],
                            filesystem=store.fs if store else None)
    result = fit(trainer, scaling)
    if result.return_value is None:
        raise RunDirError(
            f"training stopped before it finished; continue it with "
            f"raytrec train --resume {remote.location(job.run_dir)}")
    with result.checkpoint.as_directory() as d:
        _collect(Path(d), job.run_dir, outputs(job.config))
    return result.return_value
