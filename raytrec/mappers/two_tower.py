"""Two towers: MLPs over (optional) ID embeddings and features, for users and for items."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from raytrec.data.base import DataInfo
from raytrec.errors import ArgumentError
from raytrec.features.encode import check_spec, fit_encoding
from raytrec.features.module import FeatureEncoder, mlp
from raytrec.mappers.base import Mapper, MapperOutput, check_distance


class Tower(nn.Module):
    """``[ID embedding | encoded features] -> MLP -> (L2-normalised) vector``.

    Rows never seen in training get the mean ID embedding of the seen rows, so they are served
    from their features alone (cold start).
    """

    def __init__(self, ids: nn.Parameter | None, seen: np.ndarray,
                 encoder: FeatureEncoder | None, hidden: list[int], dim: int, dropout: float,
                 normalise: bool, id_dropout: float = 0.0) -> None:
        super().__init__()
        id_dim = 0 if ids is None else ids.shape[1]
        self.ids = None
        if ids is not None:  # an ``nn.Embedding`` of the table drawn (maybe a worker's rows)
            self.ids = nn.Embedding(len(seen), id_dim, device="meta")
            self.ids.weight = ids
        self.encoder = encoder
        width = id_dim + (encoder.out_dim if encoder is not None else 0)
        self.net = mlp([width, *hidden, dim], dropout, batch_norm=True,
                       activation=nn.LeakyReLU)
        # Buffers out of the state dict: they follow from the data, as the tables' sizes do.
        self.register_buffer("seen", torch.from_numpy(seen), persistent=False)
        # Mean of the seen rows' ID embeddings as one (rows,) x (rows, id_dim) product.
        self.register_buffer("seen_weights",
                             torch.from_numpy(seen / max(int(seen.sum()), 1)).float(),
                             persistent=False)
        self.normalise = normalise
        self.id_dropout = id_dropout

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        flat = rows.reshape(-1)
        parts = []
        if self.ids is not None:
            part = self.ids(flat)
            cold = ~self.seen[flat]
            if self.training and self.id_dropout > 0:
                # Train rows as if cold now and then, so the features learn to stand alone.
                cold = cold | (torch.rand(flat.shape, device=flat.device) < self.id_dropout)
            mean = self._mean_id(bool(cold.any()))
            if mean is not None:
                part = torch.where(cold.unsqueeze(1), mean, part)
            parts.append(part)
        if self.encoder is not None:
            parts.append(self.encoder(flat))
        return self._head(parts).view(*rows.shape, -1)

    def new_rows(self, table: pd.DataFrame) -> torch.Tensor:
        """``(len(table), dim)`` for feature rows outside the training data: as a row unseen
        in training (the mean ID embedding) with these features."""
        if self.encoder is None:
            raise ValueError("this tower reads no features")
        features = self.encoder.new_rows(table)
        parts = [features]
        if self.ids is not None:
            mean = self._mean_id(True)
            assert mean is not None
            parts.insert(0, mean.expand(len(table), -1))
        return self._head(parts)

    def _mean_id(self, needed: bool) -> torch.Tensor | None:
        """The mean ID embedding of the seen rows, when ``needed``. Row-sparse or sharded, it
        is a constant of the step: its gradient would touch every row of the table. Sharded,
        it is a sum over every worker's rows, which every worker computes on every call."""
        assert self.ids is not None
        shard = getattr(self.ids, "shard", None)
        if shard is not None:
            return shard.weighted_sum(self.seen_weights)
        if not needed:
            return None
        weight = self.ids.weight.detach() if self.ids.sparse else self.ids.weight
        return self.seen_weights @ weight

    def _head(self, parts: list[torch.Tensor]) -> torch.Tensor:
        out = self.net(torch.cat(parts, dim=1))
        return nn.functional.normalize(out, dim=1) if self.normalise else out


class TwoTowerMapper(Mapper):
    """User tower and item tower (Linear, BatchNorm, LeakyReLU, Dropout) — seed 003.

    Args:
        dim: output size of both towers.
        distance: ``cosine`` (outputs L2-normalised) or ``dot``.
        user_features, item_features: columns by kind (categorical, multi_hot, numeric,
            dense — the last for precomputed text embeddings); None for none.
        id_dim: size of the ID embedding fed to each tower; 0 for features only.
        hidden: hidden layer widths of each tower.
        dropout: dropout after each hidden layer.
        user_id_dropout, item_id_dropout: in training, the probability a user's (item's) ID
            embedding is replaced by the mean one, as for rows unseen in training, so that the
            tower learns to serve cold rows from their features (DropoutNet-style). Under
            ``train.sparse`` that mean takes no gradient (it would touch every row).

    Batch normalisation uses each worker's own batch statistics, as DistributedDataParallel
    does; on GPUs the trainer converts it to SyncBatchNorm so that 2+ workers normalise as
    one would.
    """

    def __init__(
        self, dim: int = 64, distance: str = "cosine",
        user_features: dict[str, list[str]] | None = None,
        item_features: dict[str, list[str]] | None = None,
        id_dim: int = 32, hidden: list[int] | None = None, dropout: float = 0.1,
        user_id_dropout: float = 0.0, item_id_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.dim, self.distance = dim, check_distance(distance)
        if self.distance == "l2":
            raise ArgumentError("distance", "must be cosine or dot for two-tower, got 'l2'")
        self.user_spec = check_spec("user_features", user_features)
        self.item_spec = check_spec("item_features", item_features)
        self.hidden = list(hidden) if hidden is not None else [256, 128]
        if dim < 1 or id_dim < 0 or any(h < 1 for h in self.hidden) or not 0 <= dropout < 1:
            raise ArgumentError("dim",
                                "must be >= 1, id_dim >= 0, hidden widths >= 1 and dropout in "
                                f"[0, 1); got {dim}, {id_dim}, {self.hidden}, {dropout}")
        if id_dim == 0 and not (self.user_spec and self.item_spec):
            raise ArgumentError("id_dim", "0 needs both user_features and item_features")
        for name, value in (("user_id_dropout", user_id_dropout),
                            ("item_id_dropout", item_id_dropout)):
            if not 0.0 <= value < 1.0:
                raise ArgumentError(name, f"must be in [0, 1), got {value}")
        self.id_dim, self.dropout = id_dim, dropout
        self.id_dropout = {"user": user_id_dropout, "item": item_id_dropout}
        self.id_tables = ("user_tower.ids.weight", "item_tower.ids.weight") if id_dim else ()

    def _tower(self, num: int, seen: np.ndarray, table, spec, what: str) -> Tower:
        encoder = None
        if spec:
            if table is None:
                raise ValueError(f"{what}_features: the dataset has no {what} feature table")
            encoding = fit_encoding(table, spec, seen, what)
            encoder = FeatureEncoder(encoding.apply(table), encoding)
        ids = self.new_id_table(num, self.id_dim) if self.id_dim else None
        return Tower(ids, seen, encoder, self.hidden, self.dim, self.dropout,
                     self.distance == "cosine", self.id_dropout[what])

    def setup(self, info: DataInfo) -> None:
        self.num_users, self.num_items = info.num_users, info.num_items
        seen_items = np.asarray(info.item_counts) > 0
        rows = info.training_rows()
        seen_users = rows > 0 if rows is not None else np.ones(info.num_users, dtype=bool)
        self.user_tower = self._tower(info.num_users, seen_users, info.user_features,
                                      self.user_spec, "user")
        self.item_tower = self._tower(info.num_items, seen_items, info.item_features,
                                      self.item_spec, "item")

    def forward(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> MapperOutput:
        """Positives and negatives through the item tower in one call: one set of batch
        statistics normalises both."""
        both = self.items(torch.cat([pos, neg.reshape(-1)]))
        return MapperOutput(self.queries(users), both[:len(pos)],
                            both[len(pos):].view(*neg.shape, -1))

    def step_rows(self, users: torch.Tensor, items: torch.Tensor) -> dict[str, torch.Tensor]:
        if not self.id_dim:
            return {}
        return {"user_tower.ids.weight": users, "item_tower.ids.weight": items}

    def queries(self, users: torch.Tensor) -> torch.Tensor:
        return self.user_tower(users)

    def new_user_queries(self, features: pd.DataFrame) -> torch.Tensor:
        if not self.user_spec:
            return super().new_user_queries(features)
        return self.user_tower.new_rows(features)

    def items(self, ids: torch.Tensor) -> torch.Tensor:
        return self.item_tower(ids)
