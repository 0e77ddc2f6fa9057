"""Uniform negatives: every item equally likely (CML, BPR)."""

from __future__ import annotations

import numpy as np
import torch

from raytrec.data.base import DataInfo
from raytrec.samplers.iid import ItemDistributionSampler


class UniformSampler(ItemDistributionSampler):
    """``num_negatives`` items per positive, drawn uniformly with replacement.

    Args:
        num_negatives: candidates per positive (CML's U; BPR uses 1).
        shared: draw one set of ``num_negatives`` for the whole batch instead of one per
            positive; scoring then is a single matrix product.
        exclude_positives: redraw candidates that are the user's own training items.
        pool_size: pick each positive's candidates from P items drawn once per batch, so that
            scoring them is one matrix product (each candidate is still uniform).
    """

    def __init__(self, num_negatives: int = 1, shared: bool = False,
                 exclude_positives: bool = False, pool_size: int | None = None) -> None:
        super().__init__(num_negatives, shared, exclude_positives, pool_size)

    def item_probs(self, info: DataInfo) -> np.ndarray:
        return np.full(info.num_items, 1.0 / info.num_items)

    def draw(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        return torch.randint(self.num_items, shape, generator=generator, device=generator.device)
