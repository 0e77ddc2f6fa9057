"""The ``session`` task: GRU4Rec's training and next-item evaluation under raytrec's loop.

- Data: events (session, item, timestamp) split by time (``test_days``, ``valid_days``;
  raytrec's ``split`` section is not used), the catalogue the training sessions' items
  (``raytrec_gru4rec.prepared``).
- Batches: session-parallel (``raytrec_gru4rec.batches``); with Ray Train each worker runs
  the training sessions ``s`` with ``s % world_size == rank``, the same number of steps.
- Loss: ``raytrec_gru4rec.step.session_loss``; the hidden state is carried on this object
  from one step to the next and starts from zero in every epoch's first step (every slot
  resets there), so a resumed run matches an uninterrupted one.
- Scoring: every next event of the validation (at most ``eval.max_users`` sessions) and test
  sessions ranked over the whole catalogue, ``conservative`` counting ties against the
  target (``raytrec_gru4rec.evaluate``); the item-kNN (also with ties counted against the
  target) and popularity baselines beside.
- Outputs: the output item vectors (bias last) as ``item_embeddings.parquet``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
from torch import nn

from raytrec.api import (
    EMBEDDING_FILES,
    ArgumentError,
    Baselines,
    DataInfo,
    Evaluation,
    Loss,
    LossOutput,
    RawData,
    Retriever,
    RunConfig,
    Sampler,
    SplitConfig,
    Task,
    embedding_table,
    sample_users,
)
from raytrec_gru4rec.batches import SessionParallel
from raytrec_gru4rec.evaluate import session_metrics
from raytrec_gru4rec.gru import Hidden
from raytrec_gru4rec.knn import ItemKNN
from raytrec_gru4rec.mapper import SessionMapper
from raytrec_gru4rec.popularity import popularity
from raytrec_gru4rec.prepared import prepare_sessions, read_info_json, read_sessions
from raytrec_gru4rec.sessions import Sessions
from raytrec_gru4rec.step import session_loss

TIES_AGAINST = "item-kNN, ties against"


@dataclass
class SessionBatch:
    inputs: torch.Tensor  # (B,) each slot's current item
    targets: torch.Tensor  # (B,) the next item
    reset: torch.Tensor  # (B,) bool: the slot starts a session with this input

    def __len__(self) -> int:
        return len(self.targets)


class SessionBatches:
    """``SessionParallel`` steps as tensors on the training device; the order of sessions is
    drawn from the loop's generator (seeded per epoch and rank)."""

    def __init__(self, parallel: SessionParallel, device: torch.device) -> None:
        self.parallel, self.device, self.steps = parallel, device, parallel.steps

    def epoch(self, generator: torch.Generator) -> Iterator[SessionBatch]:
        seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
        for step in self.parallel.epoch(np.random.default_rng(seed)):
            yield SessionBatch(*(torch.from_numpy(a).to(self.device)
                                 for a in (step.inputs, step.targets, step.reset)))


def shard(sessions: Sessions, rank: int, world_size: int) -> Sessions:
    """Worker ``rank``'s sessions: every ``world_size``-th one."""
    return sessions.take(np.arange(rank, len(sessions), world_size))


class SessionTask(Task):
    """Session-based next-item recommendation (GRU4Rec's protocol).

    Args:
        test_days: sessions ending within this many days of the last event are test.
        valid_days: those ending within this many days before the test ones are validation.
        conservative: count items scoring equal to the target against it.
        eval_slots: sessions evaluated side by side.
    """

    mapper_base = SessionMapper
    uses_retriever = False  # every target ranked exactly among the whole catalogue
    outputs = (EMBEDDING_FILES["item"],)
    rescorable = ("conservative", "eval_slots")  # raytrec evaluate --set task.conservative=true

    def __init__(self, test_days: float = 1.0, valid_days: float = 1.0,
                 conservative: bool = False, eval_slots: int = 512) -> None:
        for name, days in (("test_days", test_days), ("valid_days", valid_days)):
            if not days > 0:
                raise ArgumentError(name, f"must be > 0, got {days}")
        if eval_slots < 1:
            raise ArgumentError("eval_slots", f"must be >= 1, got {eval_slots}")
        self.test_days, self.valid_days = test_days, valid_days
        self.conservative, self.eval_slots = conservative, eval_slots
        self._hidden: Hidden | None = None

    def prepare(self, raw: RawData, split: SplitConfig, out_dir: Path) -> None:
        prepare_sessions(raw, self.test_days, self.valid_days, out_dir)

    def training_info(self, data_dir: Path) -> DataInfo:
        info = read_info_json(data_dir)
        return DataInfo(num_users=int(info["num_users"]), num_items=int(info["num_items"]),
                        item_counts=np.load(Path(data_dir) / "item_counts.npy"),
                        num_train=int(info["transitions"]["train"]),
                        extra={"dataset": info.get("dataset", "")}, queries=info["queries"])

    def batches(self, data_dir: Path, info: DataInfo, config: RunConfig, rank: int,
                world_size: int, device: torch.device, loss: Loss) -> SessionBatches:
        mine = shard(read_sessions(data_dir, "train"), rank, world_size)
        parallel = SessionParallel(mine, config.train.batch_size, info.num_train,
                                   world_size)
        return SessionBatches(parallel, device)

    def batch_loss(self, model: nn.Module, mapper: SessionMapper, sampler: Sampler,
                   loss: Loss, batch: SessionBatch, generator: torch.Generator) -> LossOutput:
        if self._hidden is None or len(self._hidden[0]) != len(batch):
            self._hidden = mapper.initial_hidden(len(batch), batch.inputs.device)
        out, self._hidden = session_loss(model, sampler, loss, batch.inputs, batch.targets,
                                         batch.reset, self._hidden, generator)
        return out.with_penalty(mapper.penalty())

    def evaluation(self, data_dir: Path, info: DataInfo,
                   config: RunConfig) -> SessionEvaluation:
        return SessionEvaluation(self, data_dir, config)

    def write_outputs(self, directory: Path, data_dir: Path, mapper: SessionMapper,
                      device: torch.device) -> None:
        with torch.no_grad():
            vectors = mapper.all_items().float().cpu().numpy()
        pq.write_table(embedding_table(Path(data_dir) / "items.parquet", vectors),
                       directory / EMBEDDING_FILES["item"])

    def baselines(self, data_dir: Path, config: RunConfig, split: str,
                  quick: bool = False) -> Baselines:
        train, held = read_sessions(data_dir, "train"), read_sessions(data_dir, split)
        num_items = int(read_info_json(data_dir)["num_items"])
        ks = list(config.eval.ks)
        knn = ItemKNN(num_items).fit(train)
        found = Baselines({"item-kNN": knn.evaluate(held, ks, self.conservative)})
        found.notes.append(f"item-kNN: co-occurrence in training sessions, λ = {knn.lam:g}, "
                           f"α = {knn.alpha:g} (GRU4Rec's baseline)")
        if not self.conservative:
            # Its scores tie often (every item never seen with the input scores 0), which
            # "strictly higher + 1" turns in its favour; the GRU's continuous scores do not.
            found.metrics[TIES_AGAINST] = knn.evaluate(held, ks, conservative=True)
            found.notes.append(f"{TIES_AGAINST}: items scoring equal to the target ranked "
                               "above it (task.conservative: true)")
        found.metrics["popularity"] = popularity(train, held, num_items, ks, self.conservative)
        return found


class SessionEvaluation(Evaluation):
    def __init__(self, task: SessionTask, data_dir: Path, config: RunConfig) -> None:
        self.task, self.ks = task, list(config.eval.ks)
        valid = read_sessions(data_dir, "valid")
        self.valid = valid.take(sample_users(np.arange(len(valid)), config.eval.max_users,
                                             config.train.seed))
        self.data_dir = data_dir

    def _score(self, mapper: SessionMapper, sessions: Sessions, rank: int, world_size: int,
               device: torch.device) -> dict[str, float]:
        mine = shard(sessions, rank, world_size)
        found = session_metrics(mapper, mine, self.ks, self.task.eval_slots,
                                self.task.conservative)
        return found.all_reduced(device).means()

    def validate(self, mapper: SessionMapper, retriever: Retriever, rank: int,
                 world_size: int, device: torch.device) -> dict[str, float]:
        return self._score(mapper, self.valid, rank, world_size, device)

    def test(self, mapper: SessionMapper, retriever: Retriever, rank: int, world_size: int,
             device: torch.device) -> dict[str, dict[str, float]]:
        test = read_sessions(self.data_dir, "test")
        return {"test": self._score(mapper, test, rank, world_size, device)}

