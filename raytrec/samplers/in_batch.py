"""In-batch negatives: the other positives of the batch (two-tower training)."""

from __future__ import annotations

import numpy as np
import torch

from raytrec.data.base import DataInfo
from raytrec.samplers.base import Negatives, Sampler
from raytrec.samplers.exclusion import PositiveFilter


class InBatchSampler(Sampler):
    """Every row's negatives are the batch's positive items, shared as ``ids (B,)``.

    A row's own item (and any copy of it elsewhere in the batch) is masked out. An item turns
    up in a batch about in proportion to its training count, so ``log_q`` is
    ``log(count / total)``: what InfoNCE's logQ correction subtracts.

    Args:
        exclude_positives: also mask batch items that are the row user's training positives.
    """

    num_negatives = 0  # as many as the batch has positives

    def __init__(self, exclude_positives: bool = False) -> None:
        self.exclude_positives = bool(exclude_positives)

    def setup(self, info: DataInfo) -> None:
        super().setup(info)
        counts = info.item_counts.astype(np.float64) + 1e-3  # items unseen in training
        self.item_log_q = torch.from_numpy(np.log(counts / counts.sum())).float()
        self.filter = (PositiveFilter(info, np.full(info.num_items, 1.0 / info.num_items))
                       if self.exclude_positives else None)

    def batch_mask(self, users: torch.Tensor, items: torch.Tensor,
                   candidates: torch.Tensor) -> torch.Tensor:
        """``(B, N)`` True where ``candidates`` may serve as a negative of row b."""
        mask = items.unsqueeze(1) != candidates.unsqueeze(0)
        if self.filter is not None:
            mask &= ~self.filter.is_positive(users.unsqueeze(1), candidates.unsqueeze(0))
        return mask

    def sample(
        self, users: torch.Tensor, items: torch.Tensor, generator: torch.Generator
    ) -> Negatives:
        log_q = self.item_log_q[items]
        # The positives are drawn by the same process, so logQ corrects their logits too.
        return Negatives(items, log_q, shared=True, mask=self.batch_mask(users, items, items),
                         pos_log_q=log_q)
