"""Uniform negatives: every item equally likely (CML, BPR)."""

from __future__ import annotations

import torch

from raytrec.samplers.base import Negatives, Sampler, check_num_negatives, log_uniform


class UniformSampler(Sampler):
    """``num_negatives`` items per positive, drawn uniformly with replacement.

    Args:
        num_negatives: candidates per positive (CML's U; BPR uses 1).
        shared: draw one set of ``num_negatives`` for the whole batch instead of one per
            positive; scoring then is a single matrix product.
    """

    def __init__(self, num_negatives: int = 1, shared: bool = False) -> None:
        self.num_negatives = check_num_negatives(num_negatives)
        self.shared = bool(shared)

    def sample(
        self, users: torch.Tensor, items: torch.Tensor, generator: torch.Generator
    ) -> Negatives:
        shape = (self.num_negatives,) if self.shared else (len(users), self.num_negatives)
        ids = torch.randint(self.num_items, shape, generator=generator, device=users.device)
        log_q = torch.full(shape, log_uniform(self.num_items), device=users.device)
        return Negatives(ids, log_q)
