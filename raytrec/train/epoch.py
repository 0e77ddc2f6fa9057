"""Batches of one worker's shard, and one epoch over them."""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from raytrec.losses import Loss
from raytrec.mappers import Mapper
from raytrec.samplers import Sampler
from raytrec.train.step import train_step


class ShardBatches:
    """Shuffled batches of this worker's positives, the same number of steps on every rank.

    DDP needs every rank to take the same number of steps, whatever its shard size, so the
    step count comes from the global train size and a short shard wraps around.
    """

    def __init__(self, users: torch.Tensor, items: torch.Tensor, global_rows: int,
                 batch_size: int, world_size: int, ratings: torch.Tensor | None = None) -> None:
        self.users, self.items, self.ratings = users, items, ratings
        self.local_batch = max(1, batch_size // world_size)
        self.steps = max(1, math.ceil(global_rows / batch_size))

    def epoch(self, generator: torch.Generator):
        n = len(self.users)
        need = self.steps * self.local_batch
        perm = torch.cat([torch.randperm(n, generator=generator, device=self.users.device)
                          for _ in range(math.ceil(need / n))])
        for s in range(self.steps):
            idx = perm[s * self.local_batch:(s + 1) * self.local_batch]
            yield (self.users[idx], self.items[idx],
                   None if self.ratings is None else self.ratings[idx])


def run_epoch(
    model: nn.Module, mapper: Mapper, sampler: Sampler, loss: Loss,
    optimizer: torch.optim.Optimizer, batches: ShardBatches, generator: torch.Generator,
) -> dict[str, float]:
    """Train one epoch; mean loss and parts, positives/s of this worker, wall seconds."""
    model.train()
    total: dict[str, torch.Tensor] = {}
    start = time.perf_counter()
    rows = 0
    for users, items, ratings in batches.epoch(generator):
        out = train_step(model, mapper, sampler, loss, optimizer, users, items, generator,
                         ratings)
        for name, value in {"loss": out.loss.detach(), **out.parts}.items():
            total[name] = total.get(name, 0.0) + value
        rows += len(users)
    seconds = time.perf_counter() - start
    stats = {name: float(v) / batches.steps for name, v in total.items()}
    stats.update(epoch_seconds=seconds, positives_per_s=rows / max(seconds, 1e-9))
    return stats
