"""Popularity negatives: item k drawn with probability ∝ count_k ** alpha."""

from __future__ import annotations

import numpy as np
import torch

from raytrec.data.base import DataInfo
from raytrec.samplers.base import Negatives, Sampler, check_num_negatives


class PopularitySampler(Sampler):
    """``num_negatives`` items per positive, drawn ∝ (training count + smoothing) ** alpha.

    Args:
        num_negatives: negatives per positive.
        alpha: 0 is uniform, 1 is proportional to popularity (word2vec uses 0.75).
        smoothing: added to every count so that items unseen in training can be drawn.
        shared: one set of negatives for the whole batch.
    """

    def __init__(
        self, num_negatives: int = 1, alpha: float = 0.75, smoothing: float = 1.0,
        shared: bool = False,
    ) -> None:
        self.num_negatives = check_num_negatives(num_negatives)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        if smoothing < 0:
            raise ValueError(f"smoothing must be >= 0, got {smoothing}")
        self.alpha, self.smoothing, self.shared = float(alpha), float(smoothing), bool(shared)

    def setup(self, info: DataInfo) -> None:
        super().setup(info)
        weights = (info.item_counts.astype(np.float64) + self.smoothing) ** self.alpha
        if weights.sum() <= 0:
            raise ValueError("popularity sampler: every item has weight 0; set smoothing > 0")
        probs = weights / weights.sum()
        self.log_probs = torch.from_numpy(np.log(np.maximum(probs, 1e-300))).float()
        # Inverse-CDF sampling: one searchsorted per draw, no per-batch alias table.
        self.cdf = torch.from_numpy(np.cumsum(probs)).double()
        self.cdf[-1] = 1.0

    def sample(
        self, users: torch.Tensor, items: torch.Tensor, generator: torch.Generator
    ) -> Negatives:
        dev = users.device
        if self.cdf.device != dev:
            self.cdf, self.log_probs = self.cdf.to(dev), self.log_probs.to(dev)
        shape = (self.num_negatives,) if self.shared else (len(users), self.num_negatives)
        u = torch.rand(shape, generator=generator, dtype=torch.float64, device=dev)
        ids = torch.searchsorted(self.cdf, u, right=True).clamp_(max=self.num_items - 1)
        return Negatives(ids, self.log_probs[ids])
