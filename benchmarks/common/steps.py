"""One training step as the loop runs it, on synthetic positives and a resolved config.

The loop's step (``raytrec.train.loop.run_epoch``) is the task's ``batch_loss`` of a batch,
then ``raytrec.train.step.apply_step`` (backward, optimiser step, constrain), on parts that
``train_loop`` built and placed: ``LoopStep`` is that, one batch at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from raytrec.config.run_config import RunConfig
from raytrec.data.base import DataInfo
from raytrec.data.store import UserItems
from raytrec.losses import Loss, LossOutput
from raytrec.mappers import Mapper
from raytrec.samplers import Sampler
from raytrec.tasks import Task
from raytrec.train.optim import RunOptimizer

MARGIN, LAMBDA_C, LR = 0.5, 10.0, 0.05
BPR_L2 = 0.01  # as examples/bpr_ml100k.yaml; it does not change the cost


@dataclass(frozen=True)
class Sizes:
    """Problem size and timing budget."""

    num_users: int
    num_items: int
    per_user: float  # mean positives per user
    dim: int
    batch: int
    candidates: int
    warmup: int  # untimed steps per model
    rounds: int  # interleaved timed rounds per model
    round_s: float  # minimum seconds per round
    implicit_s: float  # minimum seconds of implicit's timed fit


# MovieLens-1M: 6040 users, 3706 items, 1,000,209 ratings (165.6 per user).
FULL = Sizes(6040, 3706, 165.6, 100, 4096, 20, warmup=5, rounds=10, round_s=0.35,
             implicit_s=3.0)
SMOKE = Sizes(300, 200, 20.0, 16, 256, 20, warmup=2, rounds=2, round_s=0.2, implicit_s=0.3)
# 100k users, ~1M positives; scale.py varies the catalogue, exchange.py takes its 1M items.
LARGE = Sizes(100_000, 10_000, 10.0, 64, 4096, 20, warmup=3, rounds=5, round_s=1.0,
              implicit_s=3.0)

# (loss, extra sampler arguments) of each raytrec model; unset arguments keep raytrec's defaults.
RAYTREC_MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "raytrec-cml": ("cml", {}),
    # The plain step draws candidates without excluding the user's positives: like for like.
    "raytrec-cml-no-exclusion": ("cml", {"exclude_positives": False}),
    # Each positive's 20 candidates drawn from 256 items shared by the batch: one matmul.
    "raytrec-cml-pool": ("cml", {"pool_size": 256}),
    "raytrec-bpr": ("bpr", {"num_negatives": 1}),
}


def positives(sizes: Sizes) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic (user, item) pairs, no pair twice, users and items already 0-based ids."""
    from raytrec.data.synthetic import SyntheticDataset

    data = SyntheticDataset(num_users=sizes.num_users, num_items=sizes.num_items,
                            interactions_per_user=sizes.per_user, seed=0,
                            timestamps=False).load()
    inter = data.interactions
    return (inter["user"].to_numpy(np.int64, copy=True),
            inter["item"].to_numpy(np.int64, copy=True))


class Batches:
    """Endless shuffled batches of the positives (the same source for every model)."""

    def __init__(self, users: np.ndarray, items: np.ndarray, batch: int, seed: int = 0) -> None:
        self.users, self.items = torch.from_numpy(users), torch.from_numpy(items)
        self.batch = batch
        self.generator = torch.Generator().manual_seed(seed)
        self._perm = torch.empty(0, dtype=torch.int64)
        self._at = 0

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._at + self.batch > len(self._perm):
            self._perm = torch.randperm(len(self.users), generator=self.generator)
            self._at = 0
        idx = self._perm[self._at:self._at + self.batch]
        self._at += self.batch
        return self.users[idx], self.items[idx]


def raytrec_config(sizes: Sizes, loss: str, sampler: dict[str, Any],
                   sparse: bool | str = "auto") -> RunConfig:
    """A resolved config, as ``raytrec train`` would hand it to the loop."""
    from raytrec.config import validate, with_defaults
    from raytrec.plugins import get_registry

    if loss == "cml":
        raw: dict[str, Any] = {
            "mapper": {"name": "embedding", "dim": sizes.dim, "distance": "l2", "max_norm": 1.0},
            "sampler": {"name": "uniform", "num_negatives": sizes.candidates, **sampler},
            "loss": {"name": "cml", "margin": MARGIN, "lambda_c": LAMBDA_C},
        }
    else:
        raw = {
            "mapper": {"name": "embedding", "dim": sizes.dim, "distance": "dot", "max_norm": None},
            "sampler": {"name": "uniform", **sampler},
            "loss": {"name": "bpr", "l2": BPR_L2},
        }
    raw["train"] = {"batch_size": sizes.batch, "optimizer": "adagrad", "lr": LR, "seed": 0,
                    "sparse": sparse}
    return validate(with_defaults(raw), get_registry(), source="benchmarks")


def data_info(sizes: Sizes, users: np.ndarray, items: np.ndarray) -> DataInfo:
    """The training statistics of ``users, items``, with every pair: as the loop has them,
    every worker holds all training pairs (samplers may exclude them)."""
    info = DataInfo(num_users=sizes.num_users, num_items=sizes.num_items,
                    item_counts=np.bincount(items, minlength=sizes.num_items),
                    num_train=len(users))
    info.positives = UserItems.from_pairs(users, items, sizes.num_users)
    return info


@dataclass
class LoopStep:
    """One step of ``run_epoch`` on the batch ``users, items (B,)``; returns its loss."""

    task: Task
    model: nn.Module  # the mapper, or its DDP wrapper with 2+ workers
    mapper: Mapper
    sampler: Sampler
    loss: Loss
    optimizer: RunOptimizer
    generator: torch.Generator

    def __call__(self, users: torch.Tensor, items: torch.Tensor) -> LossOutput:
        from raytrec.tasks.user_item.batches import PairBatch
        from raytrec.train.step import apply_step

        self.optimizer.zero_grad()
        out = self.task.batch_loss(self.model, self.mapper, self.sampler, self.loss,
                                   PairBatch(users, items), self.generator)
        apply_step(self.mapper, self.loss, self.optimizer, out)
        return out


def loop_step(config: RunConfig, info: DataInfo, seed: int = 1,
              device: torch.device | None = None, sharded: bool = False) -> LoopStep:
    """The parts of ``config`` built, placed and wrapped as ``train_loop`` does it (DDP when
    a process group is up), stepping with a generator seeded by ``seed``; ``sharded``: every
    ID table sharded by rows over the process group."""
    from raytrec.plugins import get_registry
    from raytrec.train.optim import build_optimizer
    from raytrec.train.parts import build_parts
    from raytrec.train.session import distribute

    device = device or torch.device("cpu")
    torch.manual_seed(config.train.seed)
    task = get_registry().build("task", config.task)
    parts = build_parts(config, info).to(device)
    mapper, loss = parts.mapper, parts.loss
    if sharded:  # one worker holds every row either way
        import torch.distributed as dist

        if dist.is_initialized() and dist.get_world_size() > 1:
            mapper.shard_tables(mapper.id_tables, dist.get_rank(), dist.get_world_size())
    optimizer = build_optimizer(config, mapper, loss.parameters())
    model = distribute(mapper, tuple(optimizer.tables), device)
    parts.sampler.attach(mapper)
    mapper.train()
    return LoopStep(task, model, mapper, parts.sampler, loss, optimizer,
                    torch.Generator(device=device).manual_seed(seed))
