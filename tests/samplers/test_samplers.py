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
