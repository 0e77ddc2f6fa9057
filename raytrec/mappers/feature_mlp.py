"""CML+F: ID embeddings whose item vectors are pulled toward an MLP of the item features."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from raytrec.data.base import DataInfo
from raytrec.errors import ArgumentError
from raytrec.features.encode import check_spec, encode
from raytrec.features.module import FeatureEncoder, mlp
from raytrec.mappers.base import MapperOutput
from raytrec.mappers.embedding import EmbeddingMapper


class FeatureMLPMapper(EmbeddingMapper):
    """User and item ID tables (as ``embedding``) plus ``f(x_j)``: an MLP over item features.

    Retrieval uses the item vectors ``v_j``; ``f(x_j)`` is a prior on them, applied by the CML
    loss's feature term ``λ_f ‖f(x_j) - v_j‖²`` (``loss.lambda_f``). ``forward`` returns
    ``f(x_j)`` of the batch's positive items as the extra ``item_features``. An item with no
    training interaction (a new item, ``split.cold_items``) has no learnt ``v_j``: outside
    training, with ``unseen_items: features``, it is served from its features alone, by
    ``f(x_j)``'s direction at the median norm of the learnt item vectors (within ``max_norm``).

    Args:
        dim, distance, max_norm, init_std: as for ``embedding`` (CML: 100, l2, 1.0).
        item_features: feature columns by kind, e.g. ``{multi_hot: [genres], numeric: [year]}``
            (kinds: categorical, multi_hot, numeric, dense).
        hidden: width of the MLP's hidden layer (paper: 256).
        dropout: dropout after the hidden layer (paper: 0.5).
        unseen_items: how items with no training interaction are served. ``features``: by
            ``f(x_j)``, for items that are new (``split.cold_items``, a catalogue that grows).
            ``ids``: by their ID vectors, never trained, so they rank as at random, for items
            that are merely rare: every item sharing a feature set gets one ``f(x_j)``, the
            typical item of those features, and on MovieLens-100K's own split serving them so
            costs test Recall@50 (``benchmarks/README.md``, "Data raytrec was not tuned on").
    """

    provides = ("item_features",)

    def __init__(
        self, item_features: dict[str, list[str]], dim: int = 100, distance: str = "l2",
        max_norm: float | None = 1.0, init_std: float | None = None, hidden: int = 256,
        dropout: float = 0.5, unseen_items: Literal["features", "ids"] = "features",
    ) -> None:
        super().__init__(dim=dim, distance=distance, max_norm=max_norm, init_std=init_std)
        self.feature_spec = check_spec("item_features", item_features)
        if not self.feature_spec:
            raise ArgumentError("item_features", "must name at least one feature column")
        if hidden < 1 or not 0.0 <= dropout < 1.0:
            raise ArgumentError("hidden", f"must be >= 1 and dropout in [0, 1), got {hidden}, "
                                f"{dropout}")
        self.hidden, self.dropout, self.unseen_items = hidden, dropout, unseen_items

    def setup(self, info: DataInfo) -> None:
        super().setup(info)
        if info.item_features is None:
            raise ValueError("item_features: the dataset has no item feature table")
        encoded = encode(info.item_features, self.feature_spec, np.asarray(info.item_counts) > 0,
                         "item")
        self.encoder = FeatureEncoder(encoded)
        self.project = mlp([self.encoder.out_dim, self.hidden, self.dim], self.dropout)
        # Not in the state dict: it follows from the data, as the tables' sizes do.
        self.register_buffer("unseen", torch.from_numpy(np.asarray(info.item_counts) == 0),
                             persistent=False)

    def all_items(self, chunk: int = 65536) -> torch.Tensor:
        vectors = super().all_items(chunk)
        if self.training or self.unseen_items == "ids" or not bool(self.unseen.any()):
            return vectors
        ids = torch.nonzero(self.unseen).flatten()
        served = torch.cat([self.item_feature_vectors(ids[s:s + chunk])
                            for s in range(0, len(ids), chunk)])
        # f(x_j) regresses the learnt vectors of the items that share x_j, so it sits nearer
        # the centre than any of them, and the centre is near everyone: served at its own
        # norm, a new item would outrank the catalogue for every user. It keeps its direction
        # at the median norm of the learnt item vectors.
        known = vectors.detach()[~self.unseen].norm(dim=1)
        scale = known.median() if len(known) else torch.tensor(1.0)
        served = served / served.norm(dim=1, keepdim=True).clamp_min(1e-12) * scale
        if self.max_norm is not None:
            served = served.renorm(2, 0, self.max_norm)
        return vectors.detach().index_copy(0, ids, served.to(vectors.dtype))

    def deterministic_scores(self) -> bool:
        return True  # the dropout is in the feature projection; scores use the ID tables

    def item_feature_vectors(self, ids: torch.Tensor) -> torch.Tensor:
        """``f(x_j)`` for item ids ``(B,)`` -> ``(B, D)``."""
        return self.project(self.encoder(ids))

    def forward(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> MapperOutput:
        out = super().forward(users, pos, neg)
        out.item_features = self.item_feature_vectors(pos)
        return out
