"""The flat FAISS retriever against exact numpy ranking, with per-user exclusions."""

from __future__ import annotations

import numpy as np
import pytest

from raytrec.data.store import UserItems
from raytrec.retrievers.faiss_flat import FaissFlatRetriever


def _exact(metric: str, q: np.ndarray, v: np.ndarray) -> np.ndarray:
    if metric == "l2":
        return -((q[:, None, :] - v[None]) ** 2).sum(-1)
    if metric == "cosine":
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
    return q @ v.T


@pytest.mark.parametrize("metric", ["l2", "dot", "cosine"])
def test_matches_exact_top_k(metric: str) -> None:
    rng = np.random.default_rng(0)
    items = rng.normal(size=(200, 8)).astype(np.float32)
    queries = rng.normal(size=(20, 8)).astype(np.float32)
    retriever = FaissFlatRetriever()
    retriever.build(items, metric)
    scores, ids = retriever.search(queries, 10)
    exact = _exact(metric, queries.astype(np.float64), items.astype(np.float64))
    want = np.argsort(-exact, axis=1)[:, :10]
    np.testing.assert_array_equal(ids, want)
    np.testing.assert_allclose(scores, np.take_along_axis(exact, want, 1), rtol=1e-4, atol=1e-4)


def test_exclusion_removes_seen_items_and_keeps_order() -> None:
    rng = np.random.default_rng(1)
    items = rng.normal(size=(50, 4)).astype(np.float32)
    queries = rng.normal(size=(3, 4)).astype(np.float32)
    retriever = FaissFlatRetriever()
    retriever.build(items, "dot")
    _, full = retriever.search(queries, 50)
    seen = UserItems.from_pairs(np.array([0, 0, 2]), np.array([full[0, 0], full[0, 2], full[2, 1]]),
                                3)
    top = retriever.search_excluding(queries, 5, np.array([0, 1, 2]), seen)
    assert top[0].tolist() == [full[0, 1], *full[0, 3:7]]
    assert top[1].tolist() == full[1, :5].tolist()
    assert top[2].tolist() == [full[2, 0], *full[2, 2:6]]


def test_small_catalogue_pads_with_minus_one() -> None:
    retriever = FaissFlatRetriever()
    retriever.build(np.eye(3, dtype=np.float32), "dot")
    seen = UserItems.from_pairs(np.array([0]), np.array([1]), 1)
    top = retriever.search_excluding(np.ones((1, 3), np.float32), 4, np.array([0]), seen)
    assert sorted(top[0, :2].tolist()) == [0, 2] and top[0, 2:].tolist() == [-1, -1]
