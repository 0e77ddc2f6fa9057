"""Encoded features -> one vector per row: embeddings, bags, numeric and dense parts."""

from __future__ import annotations

import itertools

import pandas as pd
import torch
from torch import nn

from raytrec.features.encode import Encoded, Encoding

CATEGORY_DIM = 16


class FeatureEncoder(nn.Module):
    """Concatenates an embedding per categorical column, a mean-pooled bag per multi-hot
    column, the standardised numeric columns and the dense columns: ``(rows,) -> (B, out_dim)``
    for rows of its table; ``new_rows(table)`` for rows outside it, encoded by ``encoding``
    (what the table's training rows taught)."""

    def __init__(self, encoded: Encoded, encoding: Encoding | None = None) -> None:
        super().__init__()
        # Buffers out of the state dict: every worker encodes the same table in setup. Being
        # non-persistent, DDP never broadcasts them (raytrec.train.session.distribute).
        self.vocab_sizes, self.multi_vocab = encoded.vocab_sizes, encoded.multi_vocab
        self.register_buffer("table_categorical", encoded.categorical, persistent=False)
        for i, ids in enumerate(encoded.multi_hot):
            self.register_buffer(f"table_multi_hot_{i}", ids, persistent=False)
        self.register_buffer("table_numeric", encoded.numeric, persistent=False)
        self.register_buffer("table_dense", encoded.dense, persistent=False)
        self.encoding = encoding
        self.categorical = nn.ModuleList(nn.Embedding(n, CATEGORY_DIM)
                                         for n in encoded.vocab_sizes)
        self.bags = nn.ModuleList(nn.EmbeddingBag(n, CATEGORY_DIM, mode="mean", padding_idx=0)
                                  for n in encoded.multi_vocab)
        numeric = 0 if encoded.numeric is None else encoded.numeric.shape[1]
        dense = 0 if encoded.dense is None else encoded.dense.shape[1]
        self.out_dim = CATEGORY_DIM * (len(self.categorical) + len(self.bags)) + numeric + dense

    @property
    def data(self) -> Encoded:
        """The encoded table, on the module's device."""
        multi = [getattr(self, f"table_multi_hot_{i}") for i in range(len(self.multi_vocab))]
        return Encoded(self.table_categorical, self.vocab_sizes, multi, self.multi_vocab,
                       self.table_numeric, self.table_dense)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        return self._parts(self.data, rows)

    def new_rows(self, table: pd.DataFrame) -> torch.Tensor:
        """``(len(table), out_dim)`` for feature rows outside the training table."""
        if self.encoding is None:
            raise ValueError("this encoder was made without its encoding: it encodes the "
                             "rows of its own table only")
        device = next(self.parameters(), torch.empty(0)).device
        data = self.encoding.apply(table).to(device)
        return self._parts(data, torch.arange(len(table), device=device))

    def _parts(self, data: Encoded, rows: torch.Tensor) -> torch.Tensor:
        flat = rows.reshape(-1)
        parts = [emb(data.categorical[flat, i]) for i, emb in enumerate(self.categorical)]
        parts += [bag(ids[flat]) for bag, ids in zip(self.bags, data.multi_hot, strict=True)]
        parts += [t[flat] for t in (data.numeric, data.dense) if t is not None]
        return torch.cat(parts, dim=1).view(*rows.shape, self.out_dim)


def mlp(sizes: list[int], dropout: float, batch_norm: bool = False,
        activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear layers of ``sizes``; between them (optional BatchNorm), activation, dropout."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers += [activation(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)
