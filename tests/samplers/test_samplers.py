"""Samplers against their distributions (chi-square) and their log-probabilities."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from raytrec.data.base import DataInfo
from raytrec.samplers.popularity import PopularitySampler
from raytrec.samplers.uniform import UniformSampler

COUNTS = np.array([100, 50, 20, 10, 5, 0, 1, 300], dtype=np.int64)
INFO = DataInfo(10, len(COUNTS), COUNTS)


def _draw(sampler, n_batches: int = 200, batch: int = 64) -> np.ndarray:
    sampler.setup(INFO)
    gen = torch.Generator().manual_seed(0)
    users = torch.zeros(batch, dtype=torch.int64)
    ids = [sampler.sample(users, users, gen).ids.reshape(-1) for _ in range(n_batches)]
    return np.bincount(torch.cat(ids).numpy(), minlength=len(COUNTS))


def test_uniform_is_uniform() -> None:
    observed = _draw(UniformSampler(num_negatives=5))
    expected = np.full(len(COUNTS), observed.sum() / len(COUNTS))
    assert stats.chisquare(observed, expected).pvalue > 1e-3


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_popularity_follows_count_power(alpha: float) -> None:
    sampler = PopularitySampler(num_negatives=5, alpha=alpha, smoothing=1.0)
    observed = _draw(sampler)
    weights = (COUNTS + 1.0) ** alpha
    expected = observed.sum() * weights / weights.sum()
    assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_popularity_log_q_matches_probabilities() -> None:
    sampler = PopularitySampler(num_negatives=3, alpha=1.0, smoothing=0.0)
    sampler.setup(INFO)
    neg = sampler.sample(torch.zeros(4, dtype=torch.int64), torch.zeros(4, dtype=torch.int64),
                         torch.Generator().manual_seed(0))
    probs = COUNTS / COUNTS.sum()
    np.testing.assert_allclose(neg.log_q.numpy(), np.log(probs[neg.ids.numpy()]), rtol=1e-5)
    assert (COUNTS[neg.ids.numpy()] > 0).all()  # zero-count items are never drawn


def test_uniform_log_q_and_shared_shape() -> None:
    sampler = UniformSampler(num_negatives=4, shared=True)
    sampler.setup(INFO)
    neg = sampler.sample(torch.zeros(6, dtype=torch.int64), torch.zeros(6, dtype=torch.int64),
                         torch.Generator())
    assert neg.ids.shape == (4,) and neg.shared
    assert torch.allclose(neg.log_q, torch.full((4,), -math.log(len(COUNTS))))


def test_more_negatives_than_items_is_refused() -> None:
    with pytest.raises(ValueError, match="catalogue"):
        UniformSampler(num_negatives=9).setup(INFO)


@pytest.mark.parametrize("bad", [{"alpha": 1.5}, {"alpha": -0.1}, {"num_negatives": 0}])
def test_bad_arguments(bad: dict) -> None:
    with pytest.raises(ValueError):
        PopularitySampler(**bad)


def _info_with_positives() -> DataInfo:
    from raytrec.data.store import UserItems

    positives = UserItems.from_pairs(np.array([0, 0, 0, 1]), np.array([0, 1, 7, 2]), 2)
    return DataInfo(2, len(COUNTS), COUNTS, positives=positives)


@pytest.mark.parametrize("sampler", [UniformSampler(num_negatives=8, exclude_positives=True),
                                     PopularitySampler(num_negatives=8, exclude_positives=True)])
def test_exclude_positives_never_returns_them(sampler) -> None:
    info = _info_with_positives()
    sampler.setup(info)
    users = torch.tensor([0, 1, 0])
    neg = sampler.sample(users, users, torch.Generator().manual_seed(0))
    own = {0: {0, 1, 7}, 1: {2}}
    for row, user in zip(neg.ids.tolist(), users.tolist(), strict=True):
        assert not set(row) & own[user]
    # Renormalised: the log q of a user's allowed items sums to 1.
    probs = np.exp(sampler.log_probs.numpy())
    allowed = [k for k in range(len(COUNTS)) if k not in own[0]]
    first = neg.log_q[0, 0].item() - sampler.log_probs[neg.ids[0, 0]].item()
    assert np.exp(first) * probs[allowed].sum() == pytest.approx(1.0, rel=1e-5)


def test_uniform_exclusion_is_uniform_over_the_rest() -> None:
    sampler = UniformSampler(num_negatives=5, exclude_positives=True)
    sampler.setup(_info_with_positives())
    gen = torch.Generator().manual_seed(3)
    users = torch.zeros(64, dtype=torch.int64)
    ids = torch.cat([sampler.sample(users, users, gen).ids.reshape(-1) for _ in range(100)])
    observed = np.bincount(ids.numpy(), minlength=len(COUNTS))
    assert observed[[0, 1, 7]].sum() == 0
    rest = observed[[2, 3, 4, 5, 6]]
    assert stats.chisquare(rest, np.full(5, rest.sum() / 5)).pvalue > 1e-3


def test_shared_with_exclusion_is_refused() -> None:
    with pytest.raises(ValueError, match="shared"):
        UniformSampler(num_negatives=3, shared=True, exclude_positives=True)


def test_dense_and_sorted_membership_agree(monkeypatch) -> None:
    from raytrec.samplers import exclusion

    info = _info_with_positives()
    dense = exclusion.PositiveFilter(info, np.full(len(COUNTS), 1 / len(COUNTS)))
    monkeypatch.setattr(exclusion, "DENSE_LIMIT", 0)
    sparse = exclusion.PositiveFilter(info, np.full(len(COUNTS), 1 / len(COUNTS)))
    assert dense.dense is not None and sparse.dense is None
    users = torch.tensor([0, 0, 0, 1, 1, 1, 0])
    ids = torch.tensor([0, 2, 7, 2, 0, 7, 6])
    want = [True, False, True, True, False, False, False]
    assert dense.is_positive(users, ids).tolist() == want
    assert sparse.is_positive(users, ids).tolist() == want


@pytest.mark.parametrize("exclude", [False, True])
def test_pool_candidates_come_from_the_pool_and_stay_uniform(exclude: bool) -> None:
    sampler = UniformSampler(num_negatives=4, pool_size=6, exclude_positives=exclude)
    sampler.setup(_info_with_positives())
    gen = torch.Generator().manual_seed(5)
    users = torch.zeros(3, dtype=torch.int64)
    counts = np.zeros(len(COUNTS))
    # Draws within a batch share a pool, so only one draw per batch counts as independent.
    for _ in range(3000):
        neg = sampler.sample(users, users, gen)
        assert neg.pool is not None and neg.pool.shape[0] >= 6
        assert torch.equal(neg.ids, neg.pool[neg.pool_index])
        if exclude:
            assert not set(neg.ids.reshape(-1).tolist()) & {0, 1, 7}
        counts[int(neg.ids[0, 0])] += 1
    allowed = [2, 3, 4, 5, 6] if exclude else list(range(len(COUNTS)))
    if exclude:
        assert counts[[0, 1, 7]].sum() == 0
    rest = counts[allowed]
    assert stats.chisquare(rest, np.full(len(allowed), rest.sum() / len(allowed))).pvalue > 1e-3


def test_user_with_every_item_keeps_its_draws() -> None:
    from raytrec.data.store import UserItems

    n = len(COUNTS)
    positives = UserItems.from_pairs(np.r_[np.zeros(n, int), [1]], np.r_[np.arange(n), [3]], 2)
    sampler = UniformSampler(num_negatives=4, exclude_positives=True)
    sampler.setup(DataInfo(2, n, COUNTS, positives=positives))
    neg = sampler.sample(torch.tensor([0, 1]), torch.tensor([0, 1]), torch.Generator())
    assert neg.ids.shape == (2, 4) and 3 not in neg.ids[1].tolist()


def test_in_batch_masks_own_item_and_copies() -> None:
    from raytrec.samplers.in_batch import InBatchSampler

    sampler = InBatchSampler()
    sampler.setup(INFO)
    items = torch.tensor([0, 3, 0, 7])
    neg = sampler.sample(torch.arange(4), items, torch.Generator())
    assert neg.shared and neg.ids.tolist() == [0, 3, 0, 7]
    assert neg.mask.tolist() == [[False, True, False, True], [True, False, True, True],
                                 [False, True, False, True], [True, True, True, False]]
    counts = COUNTS + 1e-3
    np.testing.assert_allclose(neg.log_q.numpy(), np.log(counts / counts.sum())[[0, 3, 0, 7]],
                               rtol=1e-5)


def test_in_batch_can_mask_other_positives_of_the_user() -> None:
    from raytrec.samplers.in_batch import InBatchSampler

    sampler = InBatchSampler(exclude_positives=True)
    sampler.setup(_info_with_positives())  # user 0 has 0, 1, 7; user 1 has 2
    neg = sampler.sample(torch.tensor([0, 1]), torch.tensor([1, 7]), torch.Generator())
    assert neg.mask.tolist() == [[False, False], [True, False]]


def test_mixed_appends_shared_extras() -> None:
    from raytrec.samplers.mixed import MixedSampler

    sampler = MixedSampler(num_negatives=5, alpha=0.0)
    sampler.setup(INFO)
    items = torch.tensor([2, 4, 6])
    neg = sampler.sample(torch.arange(3), items, torch.Generator().manual_seed(0))
    assert neg.ids.shape == (8,) and neg.ids[:3].tolist() == [2, 4, 6]
    assert neg.mask.shape == (3, 8)
    extras = neg.ids[3:]
    assert torch.equal(neg.mask[:, 3:], items.unsqueeze(1) != extras.unsqueeze(0))
    # Every slot: the mixture's probability (B p_j + N q_j) / (B + N), q uniform (alpha 0).
    p = torch.from_numpy((COUNTS + 1e-3) / (COUNTS + 1e-3).sum())
    mixture = (3 * p[neg.ids] + 5 / len(COUNTS)) / 8
    assert torch.allclose(neg.log_q, mixture.log().float())


def test_hard_keeps_the_highest_scoring_candidates() -> None:
    from raytrec.mappers.embedding import EmbeddingMapper
    from raytrec.samplers.hard import HardSampler

    mapper = EmbeddingMapper(dim=1, distance="dot")
    mapper.setup(INFO)
    with torch.no_grad():
        mapper.user_emb.fill_(1.0)
        mapper.item_emb.copy_(torch.arange(len(COUNTS), dtype=torch.float32).unsqueeze(1))
    sampler = HardSampler(num_candidates=6, num_negatives=2)
    sampler.setup(INFO)
    sampler.attach(mapper)
    users, items = torch.zeros(50, dtype=torch.int64), torch.full((50,), 4)
    gen = torch.Generator().manual_seed(0)
    neg = sampler.sample(users, items, gen)
    # Same generator state -> same candidates: the kept ones are their two largest ids.
    cand = sampler.candidates.sample(users, items, torch.Generator().manual_seed(0)).ids
    want = cand.sort(dim=1, descending=True).values[:, :2]
    assert torch.equal(neg.ids.sort(dim=1, descending=True).values, want)
    # The scores of all six candidates travel with the kept ones (the loss counts violators).
    assert torch.equal(neg.candidate_scores, cand.float())


def test_mixed_log_q_is_the_expected_count_of_the_whole_sample() -> None:
    """Sampled softmax over B in-batch positives (drawn ∝ count) plus N extras (∝ count^α)
    corrects every candidate j by log E[times j is in the sample] = log(B p_j + N q_j) (up to
    a constant), whichever group drew it. Checked by counting over many batches of a tiny
    catalogue."""
    from raytrec.samplers.mixed import MixedSampler

    batch, extras, rounds = 6, 8, 4000
    sampler = MixedSampler(num_negatives=extras, alpha=0.5)
    sampler.setup(INFO)
    gen = torch.Generator().manual_seed(0)
    p = torch.from_numpy(COUNTS / COUNTS.sum())
    seen = torch.zeros(len(COUNTS), dtype=torch.float64)
    log_q = torch.full((len(COUNTS),), float("nan"), dtype=torch.float64)
    for _ in range(rounds):
        items = torch.multinomial(p, batch, replacement=True, generator=gen)
        neg = sampler.sample(torch.zeros(batch, dtype=torch.int64), items, gen)
        seen += torch.bincount(neg.ids, minlength=len(COUNTS)).double()
        log_q[neg.ids] = neg.log_q.double()
        assert torch.allclose(neg.pos_log_q.double(), log_q[items], atol=1e-5)
    expected = seen / rounds
    drawn = expected > 0.05
    assert torch.allclose(log_q[drawn].exp() * (batch + extras), expected[drawn], rtol=0.05)


def test_mixed_draws_more_extras_than_the_catalogue_holds() -> None:
    """GRU4Rec draws its 2048 extras with replacement whatever the catalogue's size (the
    Yoochoose sample has 1,172 training items); only samplers of distinct candidates per
    positive are bound by the catalogue."""
    from raytrec.samplers.mixed import MixedSampler

    sampler = MixedSampler(num_negatives=4 * len(COUNTS), alpha=0.5)
    sampler.setup(INFO)
    neg = sampler.sample(torch.arange(3), torch.tensor([1, 2, 3]), torch.Generator())
    assert neg.ids.shape == (3 + 4 * len(COUNTS),)
    with pytest.raises(ValueError, match="larger than the catalogue"):
        UniformSampler(num_negatives=4 * len(COUNTS)).setup(INFO)
