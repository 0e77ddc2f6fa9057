"""The training loop every Ray Train worker runs (and that runs in-process for
``num_workers: 0``), in the order it happens:

1. build the mapper, sampler, loss and optimiser from the resolved config; restore the newest
   checkpoint if there is one;
2. each epoch: seed the generators from (seed, epoch, rank), train over this worker's shard
   (``run_epoch``: one ``train_step`` per batch), refuse a diverged epoch, validate, keep the
   best model, report a checkpoint;
3. score the best model on test and write the outputs (``_finish``).
"""

from __future__ import annotations

import logging
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from raytrec.config.run_config import RunConfig
from raytrec.config.sections import TrainSection
from raytrec.disk import full, is_full, tensor_bytes
from raytrec.errors import TrainingDiverged
from raytrec.layout import METRICS_FILE
from raytrec.losses import Loss
from raytrec.mappers import ItemModel
from raytrec.plugins import get_registry
from raytrec.retrievers import Retriever
from raytrec.samplers import Sampler
from raytrec.scratch import temp_prefix
from raytrec.tasks import Batches, Evaluation, Task
from raytrec.train.checkpoint import write_checkpoint, write_json
from raytrec.train.optim import RunOptimizer, build_optimizer
from raytrec.train.parts import build_parts
from raytrec.train.placement import shard_by_rows
from raytrec.train.session import Session
from raytrec.train.shard_state import shard_file, split, table_order
from raytrec.train.step import apply_step

logger = logging.getLogger(__name__)



def train_loop(job: dict[str, Any], session: Session) -> dict[str, Any]:
    """Train, evaluate each epoch, checkpoint, then score the best model on test.

    ``job``: ``config`` (resolved), ``data_dir`` (prepared data), ``run_dir``.
    """
    config: RunConfig = job["config"]
    data_dir = Path(job["data_dir"])
    train = config.train
    device = session.device
    torch.manual_seed(train.seed)
    registry = get_registry()
    task = registry.build("task", config.task)
    info = task.worker_info(data_dir, session.rank, session.world_size)
    if shard_by_rows(config, info, session.rank, session.world_size, device):
        parts = build_parts(config, info, session.rank, session.world_size).to(device)
        parts.shard(session.rank, session.world_size)
    else:
        parts = build_parts(config, info).to(device)
    mapper, loss = parts.mapper, parts.loss
    # A loss may learn parameters of its own (InfoNCE's temperature).
    optimizer = build_optimizer(config, mapper, loss.parameters())
    model = session.prepare(mapper, ignore=tuple(optimizer.tables))
    parts.sampler.attach(mapper)
    generator = torch.Generator(device=device)
    batches = task.batches(data_dir, info, config, session.rank, session.world_size, device,
                           loss)
    best = Best(f"valid/{config.eval.metric}", train.patience)
    start, history = _restore(session, mapper, loss, optimizer, best)
    retriever = registry.build("retriever", config.retriever)
    evaluation = task.evaluation(data_dir, info, config)
    for epoch in range(start, train.epochs):
        if best.should_stop:
            break
        # Seeded per (seed, epoch, rank): a resumed run draws what an uninterrupted one would,
        # on every rank, without storing generator states. The global generator too (dropout
        # and ID dropout draw from it), on a stream of its own.
        epoch_seed = (train.seed * 100_003 + epoch) * 1_009 + session.rank
        generator.manual_seed(epoch_seed)
        torch.manual_seed(epoch_seed + 1_000_000_007)
        try:
            stats = run_epoch(task, model, mapper, parts.sampler, loss, optimizer, batches,
                              generator)
        except NonFinite as exc:  # stop before the epoch is saved: the last checkpoint is good
            raise TrainingDiverged(_diverged(epoch + 1, exc, history, train)) from None
        metrics: dict[str, Any] = {"epoch": epoch + 1}
        metrics.update({f"train/{k}": v for k, v in stats.items()})
        if (epoch + 1) % config.eval.every == 0 or epoch + 1 == train.epochs:
            started = time.perf_counter()
            found = evaluation.validate(mapper, retriever, session.rank, session.world_size,
                                        device)
            metrics["eval_seconds"] = time.perf_counter() - started
            metrics.update({f"valid/{k}": v for k, v in found.items()})
            # After the last epoch nothing changes the weights: the best need not be a copy.
            best.update(epoch + 1, metrics, mapper, copy=epoch + 1 < train.epochs)
        metrics["peak_rss_mb"] = peak_rss_mb()
        history.append(metrics)
        state = {"epoch": epoch + 1, "model": mapper.state_dict(), "loss": loss.state_dict(),
                 "optimizer": optimizer.state_dict(), "tracker": best.state_dict(),
                 "history": history, "finished": False}
        _report(session, config, metrics, state, mapper)
    optimizer.release()  # the final scoring needs no optimiser state
    return _finish(job, session, task, evaluation, mapper, retriever, best, history)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


class Best:
    """The best model so far by the validation metric (on the CPU), and early stopping."""

    def __init__(self, metric: str, patience: int | None) -> None:
        self.metric, self.patience = metric, patience
        self.value, self.epoch, self.stale = float("-inf"), 0, 0
        self.state: dict[str, torch.Tensor] | None = None

    def update(self, epoch: int, metrics: dict[str, float], module: nn.Module,
               copy: bool = True) -> None:
        """Keep ``module``'s state if ``metrics`` are the best so far: a copy, or (``copy``
        false, when no step will change it) the tensors themselves where they are on the
        CPU, which on a large catalogue is the size of the model saved."""
        if metrics[self.metric] > self.value:
            self.value, self.epoch, self.stale = metrics[self.metric], epoch, 0
            self.state = {k: v.detach().to("cpu", copy=copy)
                          for k, v in module.state_dict().items()}
        else:
            self.stale += 1

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.stale >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {"best_value": self.value, "best_epoch": self.epoch, "best_state": self.state,
                "stale": self.stale}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        self.value, self.epoch = saved["best_value"], saved["best_epoch"]
        self.state, self.stale = saved["best_state"], saved["stale"]


def _restore(session: Session, mapper: ItemModel, loss: torch.nn.Module,
             optimizer: RunOptimizer, best: Best) -> tuple[int, list[dict]]:
    placement = (session.rank, session.world_size) if mapper.shards else None
    state = session.load_state(placement, table_order(mapper))
    if state is None:
        return 0, []
    mapper.load_state_dict(state["model"])
    best.load_state_dict(state["tracker"])
    if state["finished"]:
        # Training is complete; only the final scoring runs again.
        return 1 << 30, list(state["history"])
    optimizer.load_state_dict(state["optimizer"])
    loss.load_state_dict(state["loss"])
    logger.info("resumed after epoch %d", state["epoch"])
    return state["epoch"], list(state["history"])


def run_epoch(
    task: Task, model: nn.Module, mapper: ItemModel, sampler: Sampler, loss: Loss,
    optimizer: RunOptimizer, batches: Batches, generator: torch.Generator,
) -> dict[str, float]:
    """Train one epoch; mean loss and parts, positives/s of this worker, wall seconds, and
    with 2+ workers the MB a worker received per step for the exchange of gradients (and the
    seconds spent exchanging ID-table rows, waits for the other workers included).

    Raises NonFinite, naming the first such step, when a loss was NaN or infinite, or naming
    the parameters that hold NaN or inf after the epoch.
    """
    model.train()
    total: dict[str, torch.Tensor] = {}
    watch = _FirstNonFinite()
    start = time.perf_counter()
    rows, exchanged, exchanging = 0, optimizer.exchanged_bytes, optimizer.exchange_seconds
    for step, batch in enumerate(batches.epoch(generator)):
        optimizer.zero_grad()
        out = task.batch_loss(model, mapper, sampler, loss, batch, generator)
        apply_step(mapper, loss, optimizer, out)
        terms = out.logged()
        watch.see(step, terms)
        for name, value in terms.items():
            total[name] = total.get(name, 0.0) + value
        rows += len(batch)
    seconds = time.perf_counter() - start  # training only: the checks below are not timed
    watch.check(batches.steps)
    bad = [name for module in (mapper, loss) for name, p in module.named_parameters()
           if not bool(torch.isfinite(p).all())]
    if bad:
        raise NonFinite(f"parameters {', '.join(bad)} hold NaN or inf")
    stats = {name: float(v) / batches.steps for name, v in total.items()}
    stats.update(epoch_seconds=seconds, positives_per_s=rows / max(seconds, 1e-9),
                 table_mb=optimizer.table_bytes() / 2**20)
    if optimizer.exchanged_bytes > exchanged:
        stats["exchange_mb_per_step"] = (optimizer.exchanged_bytes - exchanged) / 2**20 \
            / batches.steps
    if optimizer.exchange_seconds > exchanging:
        stats["exchange_seconds"] = optimizer.exchange_seconds - exchanging
    return stats


class _FirstNonFinite:
    """The first step whose loss or parts were not finite, kept on the device: no sync per
    step, one at the end of the epoch."""

    def __init__(self) -> None:
        self.step: torch.Tensor | None = None
        self.values: torch.Tensor | None = None
        self.names: list[str] = []

    def see(self, step: int, terms: dict[str, torch.Tensor]) -> None:
        values = torch.stack([v.detach().float().reshape(()) for v in terms.values()])
        if self.step is None:
            self.names = list(terms)
            self.step = torch.full((), -1, dtype=torch.int64, device=values.device)
            self.values = values
        new = (self.step < 0) & ~torch.isfinite(values).all()
        self.step = torch.where(new, step, self.step)
        self.values = torch.where(new, values, self.values)

    def check(self, steps: int) -> None:
        if self.step is not None and (step := int(self.step)) >= 0:
            values = ", ".join(f"{name} {value:.4g}" for name, value in
                               zip(self.names, self.values.tolist(), strict=True))
            raise NonFinite(f"step {step + 1} of {steps}: {values}")


class NonFinite(Exception):
    """A step's loss (or one of its parts), or a parameter, became NaN or infinite."""


def _diverged(epoch: int, exc: NonFinite, history: list[dict], train: TrainSection) -> str:
    kept = (f"the last good checkpoint is epoch {history[-1]['epoch']}'s" if history
            else "no epoch finished")
    return (f"training diverged in epoch {epoch}, {exc}; {kept}; lower train.lr (now "
            f"{train.lr:g}) or check the loss's arguments")


def _report(session: Session, config: RunConfig, metrics: dict[str, Any],
            state: dict[str, Any] | None, mapper: ItemModel | None = None,
            extra_files: Any = None) -> None:
    """Report ``metrics`` and, from rank 0, the checkpoint of ``state``; with sharded ID
    tables every rank writes its rows of them beside it (``shard_state``)."""
    sharded = state is not None and mapper is not None and bool(mapper.shards)
    if state is None or (session.rank != 0 and not sharded):
        session.report(metrics, None)
        return
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix("ckpt")))
    try:
        try:
            if sharded:
                assert mapper is not None
                state, rows = split(state, mapper)
                torch.save(rows, shard_file(tmp, session.rank, session.world_size))
            if session.rank == 0:
                write_checkpoint(tmp, state, config)
            if extra_files is not None:
                extra_files(tmp)
        except (OSError, RuntimeError) as exc:
            if not is_full(exc, tmp, tensor_bytes(state)):
                raise
            raise full(tmp, tensor_bytes(state), "the run keeps its last complete checkpoint; "
                       "free some space there, or set TMPDIR to a disk with room") from None
        session.report(metrics, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _finish(job: dict[str, Any], session: Session, task: Task, evaluation: Evaluation,
            mapper: ItemModel, retriever: Retriever, best: Best,
            history: list[dict]) -> dict[str, Any]:
    config, data_dir = job["config"], Path(job["data_dir"])
    if best.state is not None:
        mapper.load_state_dict(best.state)
    groups = evaluation.test(mapper, retriever, session.rank, session.world_size,
                             session.device)
    retriever.release()  # before the whole model is gathered beside it
    sharded = bool(mapper.shards)
    mapper.unshard(0)  # rank 0 writes the whole model and the outputs
    found = groups.pop("test")
    last = history[-1] if history else {}
    summary = {
        "best_epoch": best.epoch,
        "epochs_run": len(history),
        "valid": {k.removeprefix("valid/"): v for k, v in _best_valid(history, best).items()},
        "test": found,
        **groups,
        "train": {k.removeprefix("train/"): v for k, v in last.items() if k.startswith("train/")},
    }
    if task.uses_retriever:
        # the index that produced the test metrics
        summary["retriever"] = config.retriever.to_dict()
        summary["retrieval"] = retriever.stats.report()  # one build, this rank's searches
    # The best epoch's validation metrics ride along: what a search ranks the run by.
    metrics = {"epoch": len(history), "finished": True, "best_epoch": best.epoch,
               **_best_valid(history, best)}
    metrics.update({f"test/{k}": v for k, v in found.items()})
    tracker = best.state_dict()
    if sharded:  # rank 0's rows of the best model: the whole of it is the model itself
        tracker["best_state"] = None
    state = {"epoch": len(history), "model": mapper.state_dict(), "finished": True,
             "tracker": tracker, "history": history}

    def outputs(directory: Path) -> None:
        task.write_outputs(directory, data_dir, mapper, session.device)
        write_json(directory / METRICS_FILE, summary)

    _report(session, config, metrics, state if session.rank == 0 else None,
            extra_files=outputs)
    return summary


def _best_valid(history: list[dict], best: Best) -> dict[str, float]:
    for row in history:
        if row["epoch"] == best.epoch:
            return {k: v for k, v in row.items() if k.startswith("valid/")}
    return {}
