"""Popularity negatives: item k drawn with probability ∝ count_k ** alpha."""

from __future__ import annotations

import numpy as np
import torch

from raytrec.data.base import DataInfo
from raytrec.errors import ArgumentError
from raytrec.samplers.iid import ItemDistributionSampler


class PopularitySampler(ItemDistributionSampler):
    """``num_negatives`` items per positive, drawn ∝ (training count + smoothing) ** alpha.

    Args:
        num_negatives: negatives per positive.
        alpha: 0 is uniform, 1 is proportional to popularity (word2vec uses 0.75).
        smoothing: added to every count so that items unseen in training can be drawn.
        shared: one set of negatives for the whole batch.
        exclude_positives: redraw candidates that are the user's own training items.
        pool_size: pick each positive's candidates from P items drawn once per batch.
    """

    def __init__(
        self, num_negatives: int = 1, alpha: float = 0.75, smoothing: float = 1.0,
        shared: bool = False, exclude_positives: bool = False, pool_size: int | None = None,
    ) -> None:
        super().__init__(num_negatives, shared, exclude_positives, pool_size)
        if not 0.0 <= alpha <= 1.0:
            raise ArgumentError("alpha", f"must be in [0, 1], got {alpha}")
        if smoothing < 0:
            raise ArgumentError("smoothing", f"must be >= 0, got {smoothing}")
        self.alpha, self.smoothing = float(alpha), float(smoothing)

    def item_probs(self, info: DataInfo) -> np.ndarray:
        weights = (info.item_counts.astype(np.float64) + self.smoothing) ** self.alpha
        if weights.sum() <= 0:
            raise ArgumentError("smoothing", "must be > 0 when no item has a training count")
        return weights / weights.sum()

    def setup(self, info: DataInfo) -> None:
        super().setup(info)
        # Inverse-CDF sampling: one searchsorted per draw, no per-batch alias table.
        self.cdf = torch.from_numpy(np.cumsum(self.item_probs(info)))
        self.cdf[-1] = 1.0

    def draw(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        u = torch.rand(shape, generator=generator, dtype=torch.float64, device=generator.device)
        return torch.searchsorted(self.cdf, u, right=True).clamp_(max=self.num_items - 1)
