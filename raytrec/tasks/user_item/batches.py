"""The user-item task's batches: shuffled (user, item) positives of this worker's shard."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from raytrec.data.store import read_train_rows


@dataclass
class PairBatch:
    users: torch.Tensor  # (B,)
    items: torch.Tensor  # (B,) the positives
    ratings: torch.Tensor | None = None  # (B,) when the loss uses them

    def __len__(self) -> int:
        return len(self.users)


class ShardBatches:
    """Shuffled batches of this worker's positives (its users' rows: ``read_train_rows``), the
    same number of steps on every rank.

    DDP needs every rank to take the same number of steps, whatever its shard size, so the
    step count comes from the global train size and a short shard wraps around.
    """

    def __init__(self, users: torch.Tensor, items: torch.Tensor, global_rows: int,
                 batch_size: int, world_size: int, ratings: torch.Tensor | None = None) -> None:
        self.users, self.items, self.ratings = users, items, ratings
        # A batch larger than the training data is the whole data: one step an epoch (and no
        # permutation of the requested size is ever built).
        batch_size = max(1, min(batch_size, global_rows))
        self.local_batch = max(1, batch_size // world_size)
        self.steps = max(1, math.ceil(global_rows / batch_size))

    def epoch(self, generator: torch.Generator) -> Iterator[PairBatch]:
        n = len(self.users)
        need = self.steps * self.local_batch
        perm = torch.cat([torch.randperm(n, generator=generator, device=self.users.device)
                          for _ in range(math.ceil(need / n))])
        for s in range(self.steps):
            idx = perm[s * self.local_batch:(s + 1) * self.local_batch]
            yield PairBatch(self.users[idx], self.items[idx],
                            None if self.ratings is None else self.ratings[idx])


def shard_batches(data_dir: Path, rank: int, world_size: int, device: torch.device,
                  num_train: int, batch_size: int, ratings: bool) -> ShardBatches:
    """This worker's shard in memory on ``device`` (ratings only when the loss uses them)."""
    def tensor(a):
        return None if a is None else torch.from_numpy(a.copy()).to(device)

    users, items, rated = read_train_rows(data_dir, rank, world_size, ratings)
    return ShardBatches(tensor(users), tensor(items), num_train, batch_size, world_size,
                        None if rated is None else tensor(rated).float())
