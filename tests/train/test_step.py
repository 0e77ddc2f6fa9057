"""The two-phase step (score all candidates without grad, backprop the chosen) is exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from raytrec.data.base import DataInfo
from raytrec.distance import candidate_scores, pair_scores
from raytrec.losses.base import LossInput
from raytrec.losses.cml import CMLLoss
from raytrec.mappers.embedding import EmbeddingMapper
from raytrec.samplers.base import Negatives
from raytrec.samplers.uniform import UniformSampler
from raytrec.tasks.user_item.step import loss_of_batch


class FixedSampler(UniformSampler):
    def __init__(self, ids: torch.Tensor, pool: torch.Tensor | None = None) -> None:
        super().__init__(num_negatives=ids.shape[-1])
        self.ids, self.pool = ids, pool

    def sample(self, users, items, generator):
        if self.pool is None:
            return Negatives(self.ids, torch.zeros(self.ids.shape), shared=self.ids.dim() == 1)
        return Negatives(self.pool[self.ids], torch.zeros(self.ids.shape), shared=False,
                         pool=self.pool, pool_index=self.ids)


def _setup(shared: bool):
    info = DataInfo(30, 40, np.ones(40, dtype=np.int64))
    torch.manual_seed(0)
    mapper = EmbeddingMapper(dim=8, distance="l2", max_norm=1.0)
    mapper.setup(info)
    loss = CMLLoss(margin=0.5, lambda_c=2.0)
    loss.setup(info)
    users = torch.arange(16) % 30
    items = torch.arange(16) * 2 % 40
    shape = (12,) if shared else (16, 12)
    ids = torch.randint(40, shape, generator=torch.Generator().manual_seed(1))
    return mapper, loss, users, items, ids


def _full_gradient(mapper, loss, users, items, ids):
    q, p = mapper.queries(users), mapper.items(items)
    n = mapper.items(ids)
    neg = candidate_scores("l2", q, n)
    out = loss(LossInput(pair_scores("l2", q, p), neg, torch.zeros_like(neg), q, p))
    out.loss.backward()
    return out.loss.item(), [t.grad.clone() for t in mapper.parameters()]


def test_two_phase_gradient_equals_full_gradient() -> None:
    for shared in (False, True):
        mapper, loss, users, items, ids = _setup(shared)
        full_loss, full_grads = _full_gradient(mapper, loss, users, items, ids)
        mapper.zero_grad()
        out = loss_of_batch(mapper, mapper, FixedSampler(ids), loss, users, items,
                            torch.Generator())
        out.loss.backward()
        assert abs(out.loss.item() - full_loss) < 1e-6
        for got, want in zip(mapper.parameters(), full_grads, strict=True):
            torch.testing.assert_close(got.grad, want)


def test_pooled_candidates_give_the_full_gradient() -> None:
    mapper, loss, users, items, _ = _setup(shared=False)
    pool = torch.tensor([3, 17, 5, 29, 11, 38, 0])
    slots = torch.randint(len(pool), (16, 5), generator=torch.Generator().manual_seed(2))
    full_loss, full_grads = _full_gradient(mapper, loss, users, items, pool[slots])
    mapper.zero_grad()
    out = loss_of_batch(mapper, mapper, FixedSampler(slots, pool), loss, users, items,
                        torch.Generator())
    out.loss.backward()
    assert abs(out.loss.item() - full_loss) < 1e-6
    for got, want in zip(mapper.parameters(), full_grads, strict=True):
        torch.testing.assert_close(got.grad, want)


def test_hard_sampler_and_warp_count_violators_with_the_losss_margin() -> None:
    """A negative inside WARP's margin (1.0) but outside 0.5 still gets a gradient."""
    from raytrec.data.store import UserItems
    from raytrec.losses.warp import WARPLoss
    from raytrec.samplers.hard import HardSampler

    info = DataInfo(1, 3, np.ones(3, dtype=np.int64))
    info.positives = UserItems.from_pairs(np.array([0]), np.array([0]), 1)
    mapper = EmbeddingMapper(dim=1, distance="dot")
    mapper.setup(info)
    with torch.no_grad():
        mapper.user_emb.copy_(torch.tensor([[1.0]]))
        mapper.item_emb.copy_(torch.tensor([[1.0], [0.3], [0.1]]))  # pos 1.0, negatives 0.3, 0.1
    sampler = HardSampler(num_candidates=3, num_negatives=1, exclude_positives=True)
    sampler.setup(info)
    sampler.attach(mapper)
    loss = WARPLoss(margin=1.0)
    loss.setup(info)
    out = loss_of_batch(mapper, mapper, sampler, loss, torch.tensor([0]), torch.tensor([0]),
                        torch.Generator().manual_seed(0))
    # Candidates are items 1 and 2 (the positive is excluded): hinge 1.0 - 1.0 + 0.3 = 0.3,
    # and every candidate violates the margin of 1.0, so M = U = 3: weight log(3 + 1).
    assert out.loss.item() == pytest.approx(0.3 * np.log(3 * 3 / 3 + 1), rel=1e-5)
    out.loss.backward()
    assert mapper.user_emb.grad.abs().sum() > 0
