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
    check_training,
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


class LazySampler(UniformSampler):
    """Keeps its table in a dict that ``to(device)`` does not reach and moves it on first use:
    right on one device, a table left behind when the loop places the sampler on a GPU."""

    def setup(self, info) -> None:
        super().setup(info)
        self.tables = {"log_q": torch.full((info.num_items,), -float(np.log(info.num_items)))}

    def sample(self, users, items, generator):
        neg = super().sample(users, items, generator)
        table = self.tables["log_q"]
        if table.device != users.device:
            table = self.tables["log_q"] = table.to(users.device)
        return Negatives(neg.ids, table[neg.ids], shared=False)


class SwappedRetriever(FaissFlatRetriever):
    def search(self, queries, k):
        scores, ids = super().search(queries, k)
        return ids.astype(np.float32), scores


class ForgetfulRetriever(FaissFlatRetriever):
    """Saves its index but loads it over the items in another order."""

    def load(self, directory, saved, items, distance):
        super().load(directory, saved, items[::-1].copy(), distance)
        self.index.reset()
        self.index.add(self.items)


class NoisyMapper(EmbeddingMapper):
    """Claims deterministic scores but adds noise in train mode."""

    def items(self, ids):
        out = super().items(ids)
        return out + torch.randn_like(out) * 0.1 if self.training else out

    def deterministic_scores(self) -> bool:
        return True


class IndexingMapper(EmbeddingMapper):
    """Lists its ID tables but indexes them directly: their gradients stay dense."""

    def items(self, ids):
        return self.item_emb[ids]


class PlainTensorMapper(EmbeddingMapper):
    """Keeps a plain tensor on the module, which ``module.to(device)`` leaves behind."""

    def setup(self, info) -> None:
        super().setup(info)
        self.weight = torch.ones(info.num_users)

    def queries(self, users):
        if self.weight.device != users.device:
            self.weight = self.weight.to(users.device)
        return super().queries(users) * self.weight[users].unsqueeze(-1)


class MisnamedTablesMapper(EmbeddingMapper):
    def __init__(self, dim: int = 4) -> None:
        super().__init__(dim=dim)
        self.id_tables = ("user_emb", "items")


class ShortPrefetchMapper(EmbeddingMapper):
    """Says its items read only the positives' rows: a sharded step would miss the others."""

    def step_rows(self, users, items):
        return {"user_emb": users, "item_emb": items[:1]}


class ForeignPrefetchMapper(EmbeddingMapper):
    def step_rows(self, users, items):
        return {"user_emb": users, "items": items}


@pytest.mark.parametrize(("check", "cls", "kwargs", "rule"), [
    (check_loss, MaskBlindLoss, {}, "masked out"),
    (check_loss, NoSuperLoss, {}, "super().__init__()"),
    (check_sampler, GlobalRandomSampler, {"num_negatives": 3}, "only from the generator"),
    (check_sampler, FlatSampler, {"num_negatives": 3}, "must be (B, N) with shared=False"),
    (check_sampler, FlatSharedSampler, {"num_negatives": 3}, "return those as"),
    (check_sampler, OffByOneSampler, {"num_negatives": 3}, "ids must lie in [0, 300)"),
    (check_sampler, TensorSampler, {"num_negatives": 3}, "must return raytrec.samplers"),
    (check_retriever, SwappedRetriever, {}, "search returns (scores, ids)"),
    (check_retriever, ForgetfulRetriever, {}, "after save and load"),
    (check_mapper, NoisyMapper, {"dim": 4}, "deterministic_scores() is True"),
    (check_loss, MaskBlindLoss, {"weight": 2}, "do not bind"),
    (check_mapper, IndexingMapper, {"dim": 4}, "ID table 'item_emb' got a dense gradient"),
    (check_mapper, MisnamedTablesMapper, {}, "id_tables names items"),
    (check_sampler, LazySampler, {"num_negatives": 3}, "tables['log_q'] stayed behind"),
    (check_mapper, PlainTensorMapper, {"dim": 4}, "weight stayed behind"),
    (check_mapper, ShortPrefetchMapper, {"dim": 4}, "step_rows()['item_emb'] misses rows"),
    (check_mapper, ForeignPrefetchMapper, {"dim": 4}, "step_rows names ['items']"),
], ids=["mask", "no-super", "global-rng", "flat-ids", "flat-shared", "off-by-one", "tensor",
        "swapped", "forgetful", "noisy", "bad-arg", "dense-table", "misnamed-table",
        "lazy-sampler", "plain-tensor-mapper", "short-prefetch", "foreign-prefetch"])
def test_the_kit_catches(check, cls, kwargs: dict, rule: str) -> None:
    with pytest.raises(ConformanceError) as caught:
        check(cls, **kwargs)
    assert rule in str(caught.value) and cls.__name__ in str(caught.value)


def test_a_correct_component_passes() -> None:
    check_sampler(UniformSampler, num_negatives=3)
    check_retriever(FaissFlatRetriever)


class CurriculumSampler(UniformSampler):
    """Switches to popular negatives after 14 batches (an epoch here is 11), counting batches
    in an attribute no checkpoint holds: a resumed run switches later than an uninterrupted
    one."""

    def __init__(self, num_negatives: int = 4) -> None:
        super().__init__(num_negatives=num_negatives)
        self.calls = 0

    def sample(self, users, items, generator):
        self.calls += 1
        neg = super().sample(users, items, generator)
        if self.calls > 14:
            ids = neg.ids % 10  # the ten most popular items of the synthetic catalogue
            return Negatives(ids, neg.log_q, shared=False)
        return neg


class UnseededMapper(EmbeddingMapper):
    """Initialises from NumPy's global generator: no two runs start alike."""

    def setup(self, info) -> None:
        super().setup(info)
        with torch.no_grad():
            self.item_emb.copy_(torch.from_numpy(
                np.random.normal(0, 0.1, tuple(self.item_emb.shape))).float())


def test_check_sampler_misses_state_that_only_training_shows() -> None:
    check_sampler(CurriculumSampler, num_negatives=4)
    check_mapper(UnseededMapper, dim=4)


@pytest.mark.parametrize(("cls", "kwargs"), [(CurriculumSampler, {"num_negatives": 4}),
                                             (UnseededMapper, {"dim": 8})])
def test_the_training_check_catches_what_resuming_changes(cls, kwargs: dict) -> None:
    with pytest.raises(ConformanceError, match="stopped after epoch 1 and resumed") as caught:
        check_training(cls, **kwargs)
    assert cls.__name__ in str(caught.value)


def test_the_training_check_passes_a_correct_component_and_leaves_the_registry() -> None:
    from raytrec.plugins import get_registry

    before = get_registry()
    summary = check_training(UniformSampler, num_negatives=4, exclude_positives=True)
    assert summary["epochs_run"] == 2 and 0 < summary["test"]["recall@10"] <= 1
    assert get_registry() is before and not before.has("sampler", "under-test")
