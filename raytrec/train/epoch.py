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


class NonFinite(Exception):
    """A step's loss (or one of its parts), or a parameter, became NaN or infinite."""


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


def run_epoch(
    model: nn.Module, mapper: Mapper, sampler: Sampler, loss: Loss,
    optimizer: torch.optim.Optimizer, batches: ShardBatches, generator: torch.Generator,
) -> dict[str, float]:
    """Train one epoch; mean loss and parts, positives/s of this worker, wall seconds.

    Raises NonFinite, naming the first such step, when a loss was NaN or infinite, or naming
    the parameters that hold NaN or inf after the epoch.
    """
    model.train()
    total: dict[str, torch.Tensor] = {}
    watch = _FirstNonFinite()
    start = time.perf_counter()
    rows = 0
    for step, (users, items, ratings) in enumerate(batches.epoch(generator)):
        out = train_step(model, mapper, sampler, loss, optimizer, users, items, generator,
                         ratings)
        terms = {"loss": out.loss.detach(), **out.parts}
        watch.see(step, terms)
        for name, value in terms.items():
            total[name] = total.get(name, 0.0) + value
        rows += len(users)
    seconds = time.perf_counter() - start  # training only: the checks below are not timed
    watch.check(batches.steps)
    bad = [name for module in (mapper, loss) for name, p in module.named_parameters()
           if not bool(torch.isfinite(p).all())]
    if bad:
        raise NonFinite(f"parameters {', '.join(bad)} hold NaN or inf")
    stats = {name: float(v) / batches.steps for name, v in total.items()}
    stats.update(epoch_seconds=seconds, positives_per_s=rows / max(seconds, 1e-9))
    return stats
