"""Run a job: in this process (``num_workers: 0``) or on Ray Train workers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from raytrec import scratch
from raytrec.config.run_config import RunConfig, is_placement
from raytrec.disk import full, is_full, size_of
from raytrec.errors import RunDirError
from raytrec.interrupts import deferred
from raytrec.layout import CHECKPOINT_CONFIG, METRICS_FILE, MODEL_FILE, RAY_STORAGE, STATE_FILE
from raytrec.plugins import get_registry
from raytrec.run.job import Job
from raytrec.run.store import RunStore
from raytrec.run.uri import Remote, location, uri_of
from raytrec.train.checkpoint import damage


def run_job(job: Job) -> dict[str, Any]:
    """Train (or continue training) ``job``; final files land in its run directory."""
    if job.config.scaling.num_workers == 0:
        from raytrec.run.worker import local_train_loop
        from raytrec.train.session import LocalSession

        summary = local_train_loop(job.payload())
        _collect(LocalSession(job.run_dir).latest(), job.run_dir, outputs(job.config))
        return summary
    return _fit_on_ray(job)


def outputs(config: RunConfig) -> list[str]:
    """The files a finished run leaves beside its config: the metrics, the task's outputs
    (``Task.outputs``) and the model."""
    return [METRICS_FILE, *get_registry().build("task", config.task).outputs, MODEL_FILE]


def checkpoint_dirs(run_dir: Path) -> list[Path]:
    """The run's complete checkpoints, in-process and Ray Train ones, oldest first."""
    local = sorted((Path(run_dir) / "checkpoints").glob("checkpoint_*"))
    ray = sorted((Path(run_dir) / RAY_STORAGE / "train").glob("checkpoint_*"))
    return [d for d in [*local, *ray] if (d / STATE_FILE).exists()]


def has_checkpoint(run_dir: Path) -> bool:
    """Whether a run directory (or the run at its mirror's URI) holds an epoch to resume
    from."""
    return bool(checkpoint_dirs(run_dir) or RunStore.open(run_dir).checkpoints())


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
    found: list[Path | str] = [*intact, *RunStore.open(run_dir).checkpoints()]
    return found[-1] if found else None


def config_changes(run_dir: Path, config: RunConfig) -> list[str]:
    """Before resuming: each key of the run's ``config.yaml`` (``config``, validated) whose
    value differs from the config that the checkpoint to resume from was written with, but
    for where it runs (``PLACEMENT_KEYS``: workers, sharding), which may change."""
    start = resume_point(run_dir)
    saved_file = start / CHECKPOINT_CONFIG if isinstance(start, Path) else None
    if saved_file is None or not saved_file.is_file():
        return []
    try:
        saved = json.loads(saved_file.read_text())
    except (OSError, ValueError):
        return []
    now = json.loads(json.dumps(config.to_dict()))  # as the checkpoint stored it
    return [f"{key} is {_shown(now, key)} there but {_shown(saved, key)} in {start.name}"
            for key in sorted(_differing(saved, now)) if not is_placement(key)]


def _differing(a: Any, b: Any, prefix: str = "") -> set[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return {key for name in set(a) | set(b)
                for key in _differing(a.get(name, _ABSENT), b.get(name, _ABSENT),
                                      f"{prefix}{name}.")}
    return set() if a == b else {prefix.rstrip(".")}


_ABSENT = object()


def _shown(config: dict[str, Any], key: str) -> str:
    value: Any = config
    for part in key.split("."):
        value = value.get(part, _ABSENT) if isinstance(value, dict) else _ABSENT
    return "absent" if value is _ABSENT else json.dumps(value)


def _collect(checkpoint_dir: Path, run_dir: Path, names: list[str]) -> None:
    """Copy the final checkpoint's outputs ``names`` next to the config, each file replaced
    whole, and publish them to the run's URI when it has one."""
    with deferred():  # Ctrl-C or SIGTERM waits for the outputs to be whole
        for name in names:
            source = checkpoint_dir / (STATE_FILE if name == MODEL_FILE else name)
            tmp = run_dir / f".{name}.tmp"
            try:
                shutil.copyfile(source, tmp)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                if not is_full(exc, run_dir, size_of(source)):
                    raise
                raise full(run_dir / name, size_of(source), "the run keeps its checkpoints; "
                           "free some space") from None
            tmp.replace(run_dir / name)
    RunStore.open(run_dir).publish(*names)


def _fit_on_ray(job: Job) -> dict[str, Any]:
    from raytrec.run.ray_setup import ensure_ray

    ensure_ray()
    from raytrec.run.progress_callback import ProgressCallback
    from raytrec.run.ray_fit import build_trainer, fit
    from raytrec.run.resources import check_resources

    scaling = job.config.scaling
    check_resources(scaling, str(job.run_dir / "config.yaml"))
    uri = uri_of(job.run_dir)
    store = Remote.open(uri) if uri else None
    trainer = build_trainer(job.payload(),
                            store.path(RAY_STORAGE) if store else job.run_dir / RAY_STORAGE,
                            [ProgressCallback(str(job.run_dir.resolve()))],
                            filesystem=store.fs if store else None)
    try:
        result = fit(trainer, scaling)
    except KeyboardInterrupt:
        _stop_local_workers()
        raise
    if result.return_value is None:
        raise RunDirError(
            f"training stopped before it finished; continue it with "
            f"raytrec train --resume {location(job.run_dir)}")
    with result.checkpoint.as_directory() as d:
        _collect(Path(d), job.run_dir, outputs(job.config))
    return result.return_value


def _stop_local_workers() -> None:
    """After Ctrl-C or SIGTERM: the private local cluster's workers are stopped now, not at
    exit, so that the checkpoint folders they were writing in ``$TMPDIR`` can go too."""
    import os

    import ray

    if os.environ.get("RAY_ADDRESS"):
        return  # a cluster's workers clear their node's on their next start (ray_train_loop)
    ray.shutdown()
    scratch.clear_temp(wait_s=3.0)
