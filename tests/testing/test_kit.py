"""raytrec.testing catches what plugin authors got wrong, each on purpose here."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from raytrec.losses import Loss, LossInput, LossOutput
from raytrec.mappers.embedding import EmbeddingMapper
from raytrec.retrievers.faiss_flat import FaissFlatRetriever
from raytrec.samplers.base import Negatives
from raytrec.samplers.uniform import UniformSampler
from raytrec.testing import (
    ConformanceError,
    check_loss,
    check_mapper,
    check_retriever,
    check_sampler,
)


class MaskBlindLoss(Loss):
    """The example plugin as it was: every negative counted, masked or not."""

    def compute(self, batch: LossInput) -> LossOutput:
        return LossOutput(F.softplus(-batch.pos).mean() + F.softplus(batch.neg).mean())


class NoSuperLoss(Loss):
    def __init__(self, weight: float = 1.0) -> None:  # forgot super().__init__()
        self.weight = weight

    def compute(self, batch: LossInput) -> LossOutput:
        return LossOutput(batch.pos.mean())


class GlobalRandomSampler(UniformSampler):
    """Ignores the generator it is given: fresh runs repeat, resumed ones diverge."""

    def sample(self, users, items, generator):
        ids = torch.randint(self.num_items, (len(users), self.num_negatives))
        return Negatives(ids, torch.full(ids.shape, -np.log(self.num_items)), shared=False)


class FlatSampler(UniformSampler):
    """(B*N,) ids meant per positive: refused, they do not match shared=False."""

    def sample(self, users, items, generator):
        neg = super().sample(users, items, generator)
        return Negatives(neg.ids.reshape(-1), neg.log_q.reshape(-1), shared=False)


class FlatSharedSampler(UniformSampler):
    """(B*N,) ids declared shared: would train as negatives shared by the batch."""

    def sample(self, users, items, generator):
        neg = super().sample(users, items, generator)
        return Negatives(neg.ids.reshape(-1), neg.log_q.reshape(-1), shared=True)


class OffByOneSampler(UniformSampler):
    def sample(self, users, items, generator):
        neg = super().sample(users, items, generator)
        return Negatives(neg.ids + 1, neg.log_q, shared=False)


class TensorSampler(UniformSampler):
    def sample(self, users, items, generator):
        return super().sample(users, items, generator).ids


class SwappedRetriever(FaissFlatRetriever):
    def search(self, queries, k):
        scores, ids = super().search(queries, k)
        return ids.astype(np.float32), scores


class NoisyMapper(EmbeddingMapper):
    """Claims deterministic scores but adds noise in train mode."""

    def items(self, ids):
        out = super().items(ids)
        return out + torch.randn_like(out) * 0.1 if self.training else out

    def deterministic_scores(self) -> bool:
        return True


@pytest.mark.parametrize(("check", "cls", "kwargs", "rule"), [
    (check_loss, MaskBlindLoss, {}, "masked out"),
    (check_loss, NoSuperLoss, {}, "super().__init__()"),
    (check_sampler, GlobalRandomSampler, {"num_negatives": 3}, "only from the generator"),
    (check_sampler, FlatSampler, {"num_negatives": 3}, "must be (B, N) with shared=False"),
    (check_sampler, FlatSharedSampler, {"num_negatives": 3}, "return those as"),
    (check_sampler, OffByOneSampler, {"num_negatives": 3}, "ids must lie in [0, 300)"),
    (check_sampler, TensorSampler, {"num_negatives": 3}, "must return raytrec.samplers"),
    (check_retriever, SwappedRetriever, {}, "search returns (scores, ids)"),
    (check_mapper, NoisyMapper, {"dim": 4}, "deterministic_scores() is True"),
    (check_loss, MaskBlindLoss, {"weight": 2}, "do not bind"),
], ids=["mask", "no-super", "global-rng", "flat-ids", "flat-shared", "off-by-one", "tensor",
        "swapped", "noisy", "bad-arg"])
def test_the_kit_catches(check, cls, kwargs: dict, rule: str) -> None:
    with pytest.raises(ConformanceError) as caught:
        check(cls, **kwargs)
    assert rule in str(caught.value) and cls.__name__ in str(caught.value)


def test_a_correct_component_passes() -> None:
    check_sampler(UniformSampler, num_negatives=3)
    check_retriever(FaissFlatRetriever)
