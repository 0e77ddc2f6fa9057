"""Samplers that draw each negative independently from one distribution over items."""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import torch

from raytrec.data.base import DataInfo
from raytrec.errors import ArgumentError
from raytrec.samplers.base import Negatives, Sampler, check_num_negatives
from raytrec.samplers.exclusion import PositiveFilter

# Redraw rounds inside the pool before falling back to fresh items for the slots left over.
_POOL_ROUNDS = 8


class ItemDistributionSampler(Sampler):
    """``num_negatives`` iid draws per positive (or one set shared by the batch).

    With ``exclude_positives`` a user's own training items are redrawn, so that hard-negative
    mining does not pick items the user actually likes; ``log_q`` is renormalised to match.
    With ``pool_size`` P, the batch first draws P items and every positive picks its
    ``num_negatives`` uniformly from them: each negative still has the item distribution as its
    marginal, and scoring all candidates becomes one (B, D) x (D, P) product.
    """

    def __init__(self, num_negatives: int, shared: bool, exclude_positives: bool,
                 pool_size: int | None = None) -> None:
        self.num_negatives = check_num_negatives(num_negatives)
        self.shared, self.exclude_positives = bool(shared), bool(exclude_positives)
        self.pool_size = pool_size
        if self.shared and self.exclude_positives:
            raise ArgumentError("exclude_positives",
                                "needs negatives per positive; set shared: false")
        if pool_size is not None and (pool_size < 1 or self.shared):
            raise ArgumentError("pool_size",
                                f"must be >= 1 and needs shared: false, got {pool_size}")

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
        if self.pool_size is not None:
            return self._from_pool(users, generator)
        shape = (self.num_negatives,) if self.shared else (len(users), self.num_negatives)
        ids = self.draw(shape, generator)
        if self.filter is not None:
            self.filter.redraw(users, ids, lambda n: self.draw((n,), generator))
        return Negatives(ids, self._log_q(users, ids), shared=self.shared)

    def _exclude_in_pool(self, users: torch.Tensor, pool: torch.Tensor, index: torch.Tensor,
                         generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """A slot holding one of the user's positives gets another slot; when the pool has no
        other item for that user, a fresh item is drawn and appended to the pool."""
        flt = self.filter
        dev = users.device
        stuck = flt.redraw(users, index,
                           lambda n: torch.randint(self.pool_size, (n,), generator=generator,
                                                   device=dev),
                           items_of=lambda slots: pool[slots], rounds=_POOL_ROUNDS)
        if stuck.numel() == 0:
            return pool, index
        owner = users.unsqueeze(1).expand_as(index).reshape(-1)[stuck]
        extra = self.draw((stuck.numel(), 1), generator)
        flt.redraw(owner, extra, lambda n: self.draw((n,), generator))
        index.view(-1)[stuck] = len(pool) + torch.arange(stuck.numel(), device=dev)
        return torch.cat([pool, extra.view(-1)]), index

    def _log_q(self, users: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        log_q = self.log_probs[ids]
        if self.filter is not None:
            log_q = log_q - self.filter.log_norm[users].unsqueeze(1)
        return log_q

    def _from_pool(self, users: torch.Tensor, generator: torch.Generator) -> Negatives:
        pool = self.draw((self.pool_size,), generator)
        shape = (len(users), self.num_negatives)
        index = torch.randint(self.pool_size, shape, generator=generator, device=users.device)
        if self.filter is not None:
            pool, index = self._exclude_in_pool(users, pool, index, generator)
        ids = pool[index]
        return Negatives(ids, self._log_q(users, ids), shared=False, pool=pool,
                         pool_index=index)
