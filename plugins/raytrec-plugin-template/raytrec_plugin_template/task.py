"""A task: the next item a user takes, predicted from the item before it alone."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from torch import nn

from raytrec.api import (
    ArgumentError,
    DataError,
    DataInfo,
    Evaluation,
    Loss,
    LossInput,
    LossOutput,
    Mapper,
    RawData,
    Retriever,
    RunConfig,
    Sampler,
    SplitConfig,
    Task,
    UserItems,
)


@dataclass
class Transitions:
    previous: torch.Tensor  # (B,) the queries: item ids
    next: torch.Tensor  # (B,) the positives

    def __len__(self) -> int:
        return len(self.next)


class NextItemTask(Task):
    """Each user's items in time order give transitions (previous item -> next item); the
    previous item is the query, so a mapper's query table has a row per item. A user's last
    transition is test, the one before validation, the rest train (``split`` is not used).
    Targets are ranked exactly among the whole catalogue.

    Args:
        min_history: users with fewer interactions are left out (3 at least: one transition
            to train on and two held out).
    """

    uses_retriever = False  # ranked exactly, below
    outputs = ("item_vectors.npy",)

    def __init__(self, min_history: int = 3) -> None:
        if min_history < 3:
            raise ArgumentError("min_history", f"must be >= 3, got {min_history}")
        self.min_history = min_history

    def prepare(self, raw: RawData, split: SplitConfig, out_dir: Path) -> None:
        frame = raw.interactions
        if "timestamp" in frame:
            frame = frame.sort_values("timestamp", kind="stable")
        items, catalogue = pd.factorize(frame["item"], sort=True)
        users = pd.factorize(frame["user"])[0]
        order = np.argsort(users, kind="stable")  # by user, in time order within each
        users, items = users[order], items[order]
        same = users[1:] == users[:-1]
        owner = users[1:][same]
        from_end = pd.Series(owner).groupby(owner).cumcount(ascending=False).to_numpy()
        kept = np.bincount(owner)[owner] >= self.min_history - 1
        if not (kept & (from_end >= 2)).any():
            raise DataError(f"{raw.name}: no user has {self.min_history} interactions; lower "
                            "task.min_history")
        out_dir.mkdir(parents=True)
        split_of = np.minimum(from_end, 2)  # 0 test, 1 valid, 2 train
        counts = {}
        for code, name in enumerate(("test", "valid", "train")):
            rows = kept & (split_of == code)
            np.save(out_dir / f"{name}.npy", np.stack([items[:-1][same][rows],
                                                       items[1:][same][rows]]))
            counts[name] = int(rows.sum())
        # What ``raytrec train`` prints of the data: queries, items, rows of each split.
        info = {"num_users": len(catalogue), "queries": "previous items",
                "num_items": len(catalogue), "num_interactions": counts}
        (out_dir / "info.json").write_text(json.dumps(info))

    def training_info(self, data_dir: Path) -> DataInfo:
        n = json.loads((data_dir / "info.json").read_text())["num_items"]
        previous, following = np.load(data_dir / "train.npy")
        return DataInfo(num_users=n, num_items=n, num_train=len(following),
                        item_counts=np.bincount(following, minlength=n).astype(np.int64),
                        positives=UserItems.from_pairs(previous, following, n),
                        queries="previous items")

    def batches(self, data_dir: Path, info: DataInfo, config: RunConfig, rank: int,
                world_size: int, device: torch.device, loss: Loss) -> TransitionBatches:
        rows = torch.from_numpy(np.load(data_dir / "train.npy")[:, rank::world_size].copy())
        return TransitionBatches(rows.to(device), info.num_train, config.train.batch_size,
                                 world_size)

    def batch_loss(self, model: nn.Module, mapper: Mapper, sampler: Sampler, loss: Loss,
                   batch: Transitions, generator: torch.Generator) -> LossOutput:
        neg = sampler.sample(batch.previous, batch.next, generator)
        out = model(batch.previous, batch.next, neg.ids)  # model: gradients flow (DDP too)
        scores = LossInput(
            mapper.distance.pair_scores(out.query, out.item),
            mapper.distance.candidate_scores(out.query, out.negatives),
            neg.log_q.expand(len(batch), -1), out.query, out.item, mask=neg.mask,
            pos_log_q=neg.pos_log_q)
        return loss(scores).with_penalty(mapper.penalty())

    def evaluation(self, data_dir: Path, info: DataInfo, config: RunConfig) -> NextItemRanks:
        return NextItemRanks(data_dir, list(config.eval.ks))

    def write_outputs(self, directory: Path, data_dir: Path, mapper: Mapper,
                      device: torch.device) -> None:
        with torch.no_grad():
            np.save(directory / self.outputs[0], mapper.all_items().float().cpu().numpy())


class TransitionBatches:
    """Shuffled batches of this worker's transitions. Every rank takes the same number of
    steps (DDP steps together): the count follows the global data; a short shard wraps."""

    def __init__(self, rows: torch.Tensor, global_rows: int, batch_size: int,
                 world_size: int) -> None:
        self.rows = rows  # (2, n): previous, next
        self.local = max(1, batch_size // world_size)
        self.steps = max(1, math.ceil(global_rows / batch_size))

    def epoch(self, generator: torch.Generator) -> Iterator[Transitions]:
        n = self.rows.shape[1]
        order = torch.cat([torch.randperm(n, generator=generator, device=self.rows.device)
                           for _ in range(math.ceil(self.steps * self.local / n))])
        for s in range(self.steps):
            previous, following = self.rows[:, order[s * self.local:(s + 1) * self.local]]
            yield Transitions(previous, following)


class NextItemRanks(Evaluation):
    """Recall, nDCG, MRR and hit rate @K of each held-out next item; rank ``r`` of ``w``
    scores every ``w``-th transition, and the sums are added over ranks."""

    def __init__(self, data_dir: Path, ks: list[int]) -> None:
        self.ks = ks
        self.splits = {name: np.load(data_dir / f"{name}.npy") for name in ("valid", "test")}

    def validate(self, mapper: Mapper, retriever: Retriever, rank: int, world_size: int,
                 device: torch.device) -> dict[str, float]:
        return self._score(mapper, self.splits["valid"][:, rank::world_size], device)

    def test(self, mapper: Mapper, retriever: Retriever, rank: int, world_size: int,
             device: torch.device) -> dict[str, dict[str, float]]:
        return {"test": self._score(mapper, self.splits["test"][:, rank::world_size], device)}

    @torch.no_grad()
    def _score(self, mapper: Mapper, rows: np.ndarray, device: torch.device) -> dict[str, float]:
        was_training = mapper.training
        mapper.eval()
        vectors = mapper.all_items()
        ranks = []
        for start in range(0, rows.shape[1], 1024):
            previous, following = torch.from_numpy(rows[:, start:start + 1024]).to(device)
            scores = mapper.distance.candidate_scores(mapper.queries(previous), vectors)
            target = scores.gather(1, following[:, None])
            ranks.append((scores > target).sum(1).double() + 1)  # 1 = ranked first
        mapper.train(was_training)
        rank = torch.cat(ranks) if ranks else torch.zeros(0, dtype=torch.float64, device=device)
        sums = {}
        for k in self.ks:
            hit = (rank <= k).double()
            sums.update({f"recall@{k}": hit, f"hr@{k}": hit, f"mrr@{k}": hit / rank,
                         f"ndcg@{k}": hit / torch.log2(rank + 1)})
        total = torch.stack([v.sum() for v in sums.values()] + [rank.new_tensor(len(rank))])
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(total)  # sums over ranks, never an average of means
        users = float(total[-1])
        means = {name: float(v) / max(users, 1.0) for name, v in zip(sums, total, strict=False)}
        return {**means, "users": users}
