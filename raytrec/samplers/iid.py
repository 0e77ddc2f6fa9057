"""Samplers that draw each negative independently from one distribution over items."""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import torch

from raytrec.data.base import DataInfo
from raytrec.samplers.base import Negatives, Sampler, check_num_negatives
from raytrec.samplers.exclusion import PositiveFilter


class ItemDistributionSampler(Sampler):
    """``num_negatives`` iid draws per positive (or one set shared by the batch).

    With ``exclude_positives`` a user's own training items are redrawn, so that hard-negative
    mining does not pick items the user actually likes; ``log_q`` is renormalised to match.
    """

    def __init__(self, num_negatives: int, shared: bool, exclude_positives: bool) -> None:
        self.num_negatives = check_num_negatives(num_negatives)
        self.shared, self.exclude_positives = bool(shared), bool(exclude_positives)
        if self.shared and self.exclude_positives:
            raise ValueError("exclude_positives needs negatives per positive; set shared: false")

    @abstractmethod
    def item_probs(self, info: DataInfo) -> np.ndarray:
        """``(I,)`` probabilities of drawing each item."""

    @abstractmethod
    def draw(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        """Item ids of ``shape`` on the generator's device."""

    def setup(self, info: DataInfo) -> None:
        super().setup(info)
        probs = self.item_probs(info)
        self.log_probs = torch.from_numpy(np.log(np.maximum(probs, 1e-300))).float()
        self.filter = PositiveFilter(info, probs) if self.exclude_positives else None

    def sample(
        self, users: torch.Tensor, items: torch.Tensor, generator: torch.Generator
    ) -> Negatives:
        dev = users.device
        if self.log_probs.device != dev:
            self.log_probs = self.log_probs.to(dev)
        shape = (self.num_negatives,) if self.shared else (len(users), self.num_negatives)
        ids = self.draw(shape, generator)
        log_q = None
        if self.filter is not None:
            flt = self.filter.to(dev)
            ids = flt.redraw(users, ids, lambda n: self.draw((n,), generator))
            log_q = self.log_probs[ids] - flt.log_norm[users].unsqueeze(1)
        return Negatives(ids, self.log_probs[ids] if log_q is None else log_q)
