"""The training function every worker runs (and that runs in-process for ``num_workers: 0``)."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from raytrec.data.base import DataInfo
from raytrec.data.store import read_train_ratings, read_train_shard, read_training_info
from raytrec.debug import debugging
from raytrec.errors import TrainingDiverged
from raytrec.evaluation import MetricSums
from raytrec.evaluation.data import EvalData
from raytrec.train.artifacts import METRICS_FILE, write_embeddings, write_json
from raytrec.train.build import build_optimizer, build_parts, build_retriever
from raytrec.train.checkpoint import write_checkpoint
from raytrec.train.epoch import NonFinite, ShardBatches, run_epoch
from raytrec.train.failures import reported
from raytrec.train.session import LocalSession, RayTrainSession, Session
from raytrec.train.tracker import BestTracker
from raytrec.train.validation import cold_and_warm, evaluate_split

logger = logging.getLogger(__name__)


def ray_train_loop(job: dict[str, Any]) -> dict[str, Any]:
    """Entry point of each Ray Train worker."""
    if not debugging():
        # Ray Train logs every report at INFO from every worker, under loggers named by file.
        logging.getLogger().setLevel(logging.WARNING)
    scaling = job["config"]["scaling"]
    threads = job["config"]["train"]["threads"] or int(scaling["cpus_per_worker"])
    session = RayTrainSession(threads)
    with reported(job["run_dir"], session.rank, f"in Ray Train worker {session.rank}"):
        return train_loop(job, session)


def local_train_loop(job: dict[str, Any]) -> dict[str, Any]:
    """The same loop in this process, checkpointing under the run directory."""
    train = job["config"]["train"]
    if train["threads"]:
        torch.set_num_threads(train["threads"])
    with reported(job["run_dir"], 0, "while training"):
        return train_loop(job, LocalSession(Path(job["run_dir"]), train["device"]))


def train_loop(job: dict[str, Any], session: Session) -> dict[str, Any]:
    """Train, evaluate each epoch, checkpoint, then score the best model on test.

    ``job``: ``config`` (resolved), ``data_dir`` (prepared data), ``run_dir``.
    """
    config, data_dir = job["config"], job["data_dir"]
    train, eval_cfg = config["train"], config["eval"]
    device = session.device
    torch.manual_seed(train["seed"])
    # Every worker holds all training pairs: samplers exclude them, evaluation skips them.
    info = read_training_info(data_dir)
    parts = build_parts(config, info)
    mapper = parts.mapper.to(device)
    model = session.prepare(mapper)
    parts.sampler.attach(mapper)
    loss = parts.loss.to(device)
    # A loss may learn parameters of its own (InfoNCE's temperature).
    optimizer = build_optimizer(config, mapper.parameters(), loss.parameters())
    generator = torch.Generator(device=device)
    batches = _batches(data_dir, session, info.num_train, train["batch_size"], loss.uses_ratings)
    tracker = BestTracker(f"valid/{eval_cfg['metric']}", train["patience"])
    start, history = _restore(session, mapper, loss, optimizer, tracker)
    retriever = build_retriever(config)
    valid = EvalData.load(data_dir, "valid", info.num_users, info.positives)
    for epoch in range(start, train["epochs"]):
        if tracker.should_stop:
            break
        # Seeded per (seed, epoch, rank): a resumed run draws what an uninterrupted one would,
        # on every rank, without storing generator states. The global generator too (dropout
        # and ID dropout draw from it), on a stream of its own.
        epoch_seed = (train["seed"] * 100_003 + epoch) * 1_009 + session.rank
        generator.manual_seed(epoch_seed)
        torch.manual_seed(epoch_seed + 1_000_000_007)
        try:
            stats = run_epoch(model, mapper, parts.sampler, loss, optimizer, batches, generator)
        except NonFinite as exc:  # stop before the epoch is saved: the last checkpoint is good
            raise TrainingDiverged(_diverged(epoch + 1, exc, history, train)) from None
        metrics: dict[str, Any] = {"epoch": epoch + 1}
        metrics.update({f"train/{k}": v for k, v in stats.items()})
        if (epoch + 1) % eval_cfg["every"] == 0 or epoch + 1 == train["epochs"]:
            found = evaluate_split(mapper, retriever, valid, eval_cfg, session.rank,
                                   session.world_size, device)
            metrics.update({f"valid/{k}": v for k, v in found.items()})
            tracker.update(epoch + 1, metrics, mapper)
        history.append(metrics)
        state = {"epoch": epoch + 1, "model": mapper.state_dict(), "loss": loss.state_dict(),
                 "optimizer": optimizer.state_dict(), "tracker": tracker.state_dict(),
                 "history": history, "finished": False}
        _report(session, config, metrics, state)
    return _finish(job, session, mapper, retriever, tracker, history, info)


def _diverged(epoch: int, exc: NonFinite, history: list[dict], train: dict[str, Any]) -> str:
    kept = (f"the last good checkpoint is epoch {history[-1]['epoch']}'s" if history
            else "no epoch finished")
    return (f"training diverged in epoch {epoch}, {exc}; {kept}; lower train.lr (now "
            f"{train['lr']:g}) or check the loss's arguments")


def _batches(data_dir: str, session: Session, num_train: int, batch_size: int,
             ratings: bool) -> ShardBatches:
    """This worker's shard in memory on its device (ratings only when the loss uses them)."""
    def tensor(a):
        return None if a is None else torch.from_numpy(a.copy()).to(session.device)

    users, items = read_train_shard(data_dir, session.rank, session.world_size)
    rated = read_train_ratings(data_dir, session.rank, session.world_size) if ratings else None
    return ShardBatches(tensor(users), tensor(items), num_train, batch_size, session.world_size,
                        None if rated is None else tensor(rated).float())


def _restore(session: Session, mapper: torch.nn.Module, loss: torch.nn.Module,
             optimizer: torch.optim.Optimizer, tracker: BestTracker) -> tuple[int, list[dict]]:
    state = session.load_state()
    if state is None:
        return 0, []
    mapper.load_state_dict(state["model"])
    tracker.load_state_dict(state["tracker"])
    if state["finished"]:
        # Training is complete; only the final scoring runs again.
        return 1 << 30, list(state["history"])
    optimizer.load_state_dict(state["optimizer"])
    loss.load_state_dict(state["loss"])
    logger.info("resumed after epoch %d", state["epoch"])
    return state["epoch"], list(state["history"])


def _report(session: Session, config: dict[str, Any], metrics: dict[str, Any],
            state: dict[str, Any] | None, extra_files: Any = None) -> None:
    if session.rank != 0 or state is None:
        session.report(metrics, None)
        return
    tmp = Path(tempfile.mkdtemp(prefix="raytrec-ckpt-"))
    try:
        write_checkpoint(tmp, state, config)
        if extra_files is not None:
            extra_files(tmp)
        session.report(metrics, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _finish(job: dict[str, Any], session: Session, mapper: torch.nn.Module, retriever: Any,
            tracker: BestTracker, history: list[dict], info: DataInfo) -> dict[str, Any]:
    config, data_dir = job["config"], job["data_dir"]
    if tracker.best_state is not None:
        mapper.load_state_dict(tracker.best_state)
    test = EvalData.load(data_dir, "test", info.num_users, info.positives)
    groups = {f"test_{name}": evaluate_split(mapper, retriever, test, config["eval"],
                                             session.rank, session.world_size, session.device,
                                             users)
              for name, users in cold_and_warm(test, info.positives).items()}
    if groups:  # cold and warm users partition the test users: combine rather than re-score
        found = (MetricSums.from_means(groups["test_cold"])
                 .add(MetricSums.from_means(groups["test_warm"])).means())
    else:
        found = evaluate_split(mapper, retriever, test, config["eval"], session.rank,
                               session.world_size, session.device)
    last = history[-1] if history else {}
    summary = {
        "best_epoch": tracker.best_epoch,
        "epochs_run": len(history),
        "valid": {k.removeprefix("valid/"): v for k, v in _best_valid(history, tracker).items()},
        "test": found,
        **groups,
        "train": {k.removeprefix("train/"): v for k, v in last.items() if k.startswith("train/")},
    }
    # The best epoch's validation metrics ride along: what a search ranks the run by.
    metrics = {"epoch": len(history), "finished": True, "best_epoch": tracker.best_epoch,
               **_best_valid(history, tracker)}
    metrics.update({f"test/{k}": v for k, v in found.items()})
    state = {"epoch": len(history), "model": mapper.state_dict(), "finished": True,
             "tracker": tracker.state_dict(), "history": history}

    def outputs(directory: Path) -> None:
        write_embeddings(directory, Path(data_dir), mapper, session.device)
        write_json(directory / METRICS_FILE, summary)

    _report(session, config, metrics, state if session.rank == 0 else None, outputs)
    return summary


def _best_valid(history: list[dict], tracker: BestTracker) -> dict[str, float]:
    for row in history:
        if row["epoch"] == tracker.best_epoch:
            return {k: v for k, v in row.items() if k.startswith("valid/")}
    return {}
