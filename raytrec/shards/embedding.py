"""An ``nn.Embedding`` whose table is sharded: the mapper's module, read through its shard."""

from __future__ import annotations

import torch
from torch import nn

from raytrec.shards.table import ShardedTable


class ShardedEmbedding(nn.Embedding):
    """What an ``nn.Embedding`` of a mapper becomes when its weight is sharded (its class is
    swapped in place, so the mapper's code and parameter names stay as they were)."""

    shard: ShardedTable

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.shard.lookup(input)


def shard_embedding(module: nn.Embedding, shard: ShardedTable) -> None:
    module.__class__ = ShardedEmbedding
    module.shard = shard
