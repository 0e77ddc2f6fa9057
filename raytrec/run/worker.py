"""Where the training loop (``raytrec.train.loop.train_loop``) is started: in each Ray Train
worker, or in this process for ``scaling.num_workers: 0``. Around the loop: the worker's
threads and log level, the run's data fetched to a worker's node when the run lives at a URI,
a failure kept in the run's ``logs/`` as one message (``raytrec.run.failures``), and the
session's publisher (``raytrec.run.store``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from raytrec.config.run_config import RunConfig
from raytrec.debug import debugging
from raytrec.run.failures import reported
from raytrec.run.mirror import fetch_data
from raytrec.run.store import RunStore
from raytrec.scratch import clear_temp
from raytrec.train.loop import train_loop
from raytrec.train.session import LocalSession, RayTrainSession


def ray_train_loop(job: dict[str, Any]) -> dict[str, Any]:
    """Entry point of each Ray Train worker."""
    if not debugging():
        # Ray Train logs every report at INFO from every worker, under loggers named by file.
        logging.getLogger().setLevel(logging.WARNING)
    config: RunConfig = job["config"]
    threads = config.train.threads or int(config.scaling.cpus_per_worker)
    session = RayTrainSession(threads)
    clear_temp()  # what workers killed on this node before left in its $TMPDIR
    where = job.get("run_uri") or job["run_dir"]
    with reported(where, session.rank, f"in Ray Train worker {session.rank}"):
        if job.get("run_uri"):  # the driver's mirror is not on this node
            job = {**job, "data_dir": str(fetch_data(job["run_uri"]))}
        return train_loop(job, session)


def local_train_loop(job: dict[str, Any]) -> dict[str, Any]:
    """The same loop in this process, checkpointing under the run directory."""
    train = job["config"].train
    if train.threads:
        torch.set_num_threads(train.threads)
    with reported(job["run_dir"], 0, "while training"):
        return train_loop(job, LocalSession(Path(job["run_dir"]), train.device,
                                            publisher=RunStore.open(job["run_dir"])))
