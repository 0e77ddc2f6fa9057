"""A mapper: ID embeddings plus a learned popularity bias per item, scored by dot product."""

from __future__ import annotations

import math

import torch
from torch import nn

from raytrec.api import ArgumentError, DataInfo, Mapper


class ItemBiasMapper(Mapper):
    """``score(u, i) = e_u · e_i + b_i``: queries ``[e_u, 1]``, items ``[e_i, b_i]``.

    Args:
        dim: embedding size (vectors have ``dim + 1`` entries).
    """

    distance = "dot"

    def __init__(self, dim: int = 32) -> None:
        super().__init__()
        if dim < 1:
            raise ArgumentError("dim", f"must be >= 1, got {dim}")
        self.embedding_dim = dim
        self.dim = dim + 1  # what queries() and items() return

    def setup(self, info: DataInfo) -> None:
        self.num_users, self.num_items = info.num_users, info.num_items
        std = 1.0 / math.sqrt(self.embedding_dim)
        self.users = nn.Parameter(torch.randn(info.num_users, self.embedding_dim) * std)
        self.items_table = nn.Parameter(torch.randn(info.num_items, self.embedding_dim) * std)
        self.bias = nn.Parameter(torch.zeros(info.num_items, 1))

    def queries(self, users: torch.Tensor) -> torch.Tensor:
        vectors = self.users[users]
        return torch.cat([vectors, torch.ones_like(vectors[:, :1])], dim=1)

    def items(self, ids: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.items_table[ids], self.bias[ids]], dim=-1)
