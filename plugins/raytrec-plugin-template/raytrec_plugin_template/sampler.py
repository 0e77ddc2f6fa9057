"""A sampler: negatives drawn in inverse proportion to their training popularity."""

from __future__ import annotations

import numpy as np
import torch

from raytrec.api import DataInfo, Negatives, Sampler, check_num_negatives


class InversePopularitySampler(Sampler):
    """``num_negatives`` items per positive, item j drawn ∝ 1 / (count_j + 1).

    Args:
        num_negatives: negatives per positive.
    """

    def __init__(self, num_negatives: int = 5) -> None:
        self.num_negatives = check_num_negatives(num_negatives)

    def setup(self, info: DataInfo) -> None:
        super().setup(info)  # checks num_negatives against the catalogue
        weights = 1.0 / (info.item_counts.astype(np.float64) + 1.0)
        probs = weights / weights.sum()
        # Tensor attributes follow the sampler's ``to(device)``, which the loop calls once.
        self.probs = torch.from_numpy(probs)
        self.log_probs = torch.from_numpy(np.log(probs)).float()

    def sample(self, users: torch.Tensor, items: torch.Tensor,
               generator: torch.Generator) -> Negatives:
        # Draw only from ``generator``: a resumed run then draws what an uninterrupted one did.
        ids = torch.multinomial(self.probs, len(users) * self.num_negatives, replacement=True,
                                generator=generator).view(len(users), self.num_negatives)
        return Negatives(ids, self.log_probs[ids], shared=False)  # (B, N): per positive
