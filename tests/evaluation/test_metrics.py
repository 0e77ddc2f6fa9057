"""Ranking metrics against hand-computed numbers; shards sum to the whole."""

from __future__ import annotations

import math

import numpy as np
import pytest

from raytrec.data.store import UserItems
from raytrec.evaluation import MetricSums, evaluate, per_user
from raytrec.retrievers.faiss_flat import FaissFlatRetriever


def test_hand_computed_metrics() -> None:
    # user 0 relevant {3, 7}; ranked [3, 1, 7, 2]: hits at ranks 1 and 3.
    # user 1 relevant {5}; ranked [0, 1, 2, 4]: no hit.
    relevant = UserItems.from_pairs(np.array([0, 0, 1]), np.array([3, 7, 5]), 2)
    top = np.array([[3, 1, 7, 2], [0, 1, 2, 4]])
    m = per_user(top, np.array([0, 1]), relevant, [1, 4], num_items=10)
    assert m["recall@1"].tolist() == [0.5, 0.0]
    assert m["recall@4"].tolist() == [1.0, 0.0]
    dcg = 1 + 1 / math.log2(4)
    idcg = 1 + 1 / math.log2(3)
    assert m["ndcg@4"][0] == pytest.approx(dcg / idcg)
    assert m["ndcg@1"][0] == pytest.approx(1.0)
    assert m["mrr@4"].tolist() == [1.0, 0.0]
    assert m["hr@4"].tolist() == [1.0, 0.0]


def test_first_hit_rank_for_mrr_and_empty_slots() -> None:
    relevant = UserItems.from_pairs(np.array([0]), np.array([2]), 1)
    m = per_user(np.array([[5, -1, 2]]), np.array([0]), relevant, [2, 3], num_items=6)
    assert m["mrr@2"][0] == 0.0
    assert m["mrr@3"][0] == pytest.approx(1 / 3)


def _random_case(seed: int = 0):
    rng = np.random.default_rng(seed)
    n_users, n_items = 50, 30
    train = UserItems.from_pairs(rng.integers(0, n_users, 300), rng.integers(0, n_items, 300),
                                 n_users)
    relevant = UserItems.from_pairs(rng.integers(0, n_users, 120), rng.integers(0, n_items, 120),
                                    n_users)
    users_vec = rng.normal(size=(n_users, 4)).astype(np.float32)
    retriever = FaissFlatRetriever()
    retriever.build(rng.normal(size=(n_items, 4)).astype(np.float32), "dot")
    return users_vec, retriever, relevant, train


def test_sharded_sums_equal_the_whole() -> None:
    users_vec, retriever, relevant, train = _random_case()
    users = relevant.users()
    whole = evaluate(lambda u: users_vec[u], retriever, users, relevant, train, [5, 10], 7)
    parts = MetricSums()
    for rank in range(3):
        parts = parts.add(evaluate(lambda u: users_vec[u], retriever, users[rank::3], relevant,
                                   train, [5, 10], 4))
    assert parts.users == whole.users == len(users)
    for key, value in whole.means().items():
        assert parts.means()[key] == pytest.approx(value)


def test_chunk_size_does_not_change_results() -> None:
    users_vec, retriever, relevant, train = _random_case(1)
    users = relevant.users()
    a = evaluate(lambda u: users_vec[u], retriever, users, relevant, train, [10], 1).means()
    b = evaluate(lambda u: users_vec[u], retriever, users, relevant, train, [10], 1000).means()
    assert a == pytest.approx(b)
