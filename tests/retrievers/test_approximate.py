"""The approximate retrievers against exact search: recall on vectors of every shape, scores
in the model's distance, per-user exclusion that never leaves a list short, and the options
each checks against the data."""

from __future__ import annotations

import numpy as np
import pytest

from raytrec.data.store import UserItems
from raytrec.retrievers.base import Retriever
from raytrec.retrievers.faiss_flat import FaissFlatRetriever
from raytrec.retrievers.faiss_hnsw import FaissHnswRetriever
from raytrec.retrievers.faiss_ivf import FaissIvfRetriever
from raytrec.retrievers.faiss_lsh import FaissLshRetriever
from raytrec.retrievers.torch_exact import TorchExactRetriever
from raytrec.testing.retrievers import exact_scores

RNG = np.random.default_rng(0)
CENTRES = RNG.normal(size=(30, 32))
# Clustered items whose norms spread over two orders of magnitude (dot products favour the
# long ones; graphs and hashes built on raw inner products lose them).
ITEMS = ((CENTRES[RNG.integers(0, 30, 5000)] + 0.4 * RNG.normal(size=(5000, 32)))
         * RNG.uniform(0.05, 5.0, size=(5000, 1))).astype(np.float32)
QUERIES = (CENTRES[RNG.integers(0, 30, 200)] + 0.4 * RNG.normal(size=(200, 32))).astype(
    np.float32)
# Inside the unit ball, as CML keeps its vectors (l2 through hashing needs norms alike).
BALL = (ITEMS / np.linalg.norm(ITEMS, axis=1, keepdims=True)
        * RNG.uniform(0.5, 1.0, size=(5000, 1))).astype(np.float32)
BALL_QUERIES = (BALL[RNG.integers(0, 5000, 200)] + 0.02 * RNG.normal(size=(200, 32))).astype(
    np.float32)
K = 20

APPROXIMATE = {
    "hnsw": lambda: FaissHnswRetriever(m=16, ef_search=128),
    "ivf": lambda: FaissIvfRetriever(nlist=64, nprobe=16),
    "ivf-pq": lambda: FaissIvfRetriever(nlist=64, nprobe=16, pq=16, rerank=10),
    "lsh": lambda: FaissLshRetriever(nbits=512, rerank=20),
}


@pytest.mark.parametrize("distance", ["dot", "cosine", "l2"])
@pytest.mark.parametrize("name", list(APPROXIMATE))
def test_recall_against_exact_search(name: str, distance: str) -> None:
    items, queries = (BALL, BALL_QUERIES) if (name, distance) == ("lsh", "l2") else \
        (ITEMS, QUERIES)
    retriever = APPROXIMATE[name]()
    retriever.build(items, distance)
    scores, ids = retriever.search(queries, K)
    truth = exact_scores(queries.astype(np.float64), items.astype(np.float64), distance)
    top = np.argsort(-truth, axis=1)[:, :K]
    assert np.mean([len(set(a) & set(b)) / K for a, b in zip(ids, top, strict=True)]) >= 0.9
    np.testing.assert_allclose(scores, np.take_along_axis(truth, ids, 1), rtol=1e-3, atol=1e-3)
    assert (np.diff(scores, axis=1) <= 0).all()


@pytest.mark.parametrize("distance", ["dot", "cosine", "l2"])
def test_torch_exact_equals_faiss_flat(distance: str) -> None:
    flat, torch_exact = FaissFlatRetriever(), TorchExactRetriever(chunk=64)
    for r in (flat, torch_exact):
        r.build(ITEMS, distance)
    (s1, i1), (s2, i2) = flat.search(QUERIES, K), torch_exact.search(QUERIES, K)
    assert (i1 == i2).mean() > 0.99  # ties and float order aside
    np.testing.assert_allclose(s1, s2, rtol=1e-4, atol=1e-3)


def _heavy_exclusion(retriever: Retriever) -> tuple[np.ndarray, UserItems]:
    """Each of the 200 users has seen their 150 nearest items by exact search."""
    exact = FaissFlatRetriever()
    exact.build(ITEMS, retriever.distance)
    _, near = exact.search(QUERIES, 150)
    users = np.arange(len(QUERIES))
    return users, UserItems.from_pairs(np.repeat(users, 150), near.ravel(), len(users))


def test_exclusion_searches_again_wider_instead_of_returning_short_lists() -> None:
    # One cell of ~80 items probed: after 150 seen items are removed, nothing is left.
    retriever = FaissIvfRetriever(nlist=64, nprobe=1)
    retriever.build(ITEMS, "l2")
    users, seen = _heavy_exclusion(retriever)
    top = retriever.search_excluding(QUERIES, K, users, seen)
    assert (top >= 0).all(), "a list came back short"
    assert not seen.contains(users, top, len(ITEMS)).any(), "a seen item was recommended"
    assert retriever.stats.widened > 0
    scores = np.take_along_axis(exact_scores(QUERIES, ITEMS, "l2"), top, axis=1)
    assert (np.diff(scores, axis=1) <= 1e-4).all(), "best first"


class _FindsNothing(Retriever):
    """An index that never finds anything: only the exact fallback can fill its lists."""

    def _build(self, items: np.ndarray) -> None:
        pass

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return np.full((len(queries), k), -np.inf), np.full((len(queries), k), -1)


def test_rows_no_wider_search_fills_are_searched_exactly() -> None:
    retriever, exact = _FindsNothing(), FaissFlatRetriever()
    for r in (retriever, exact):
        r.build(ITEMS, "dot")
    users, seen = _heavy_exclusion(exact)
    top = retriever.search_excluding(QUERIES, K, users, seen)
    np.testing.assert_array_equal(top, exact.search_excluding(QUERIES, K, users, seen))
    assert retriever.stats.exact == len(users)


def test_a_user_with_fewer_unseen_items_than_k_is_not_searched_again() -> None:
    retriever = FaissIvfRetriever(nlist=2, nprobe=2)
    items = RNG.normal(size=(30, 4)).astype(np.float32)
    retriever.build(items, "dot")
    seen = UserItems.from_pairs(np.zeros(25, np.int64), np.arange(25), 1)
    top = retriever.search_excluding(items[:1], 10, np.array([0]), seen)
    assert sorted(top[0, :5].tolist()) == [25, 26, 27, 28, 29] and (top[0, 5:] == -1).all()
    assert retriever.stats.widened == 0 and retriever.stats.exact == 0


@pytest.mark.parametrize(("retriever", "message"), [
    (FaissIvfRetriever(nlist=300), "nlist=300 is larger than the catalogue (200 items)"),
    (FaissIvfRetriever(nlist=10, nprobe=20), "nprobe=20 is larger than nlist (10)"),
    (FaissIvfRetriever(pq=6), "pq=6 does not divide the vector width (32)"),
    (FaissHnswRetriever(ef_search=16), "ef_search=16 is smaller than the k searched (50"),
])
def test_options_checked_against_the_data(retriever: Retriever, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        retriever.check(200, 32, 50)


@pytest.mark.parametrize("make", [lambda: FaissIvfRetriever(nprobe=0),
                                  lambda: FaissIvfRetriever(pq=3),
                                  lambda: FaissHnswRetriever(m=1),
                                  lambda: FaissLshRetriever(nbits=0),
                                  lambda: TorchExactRetriever(device="tpu")])
def test_bad_options_refused_at_construction(make) -> None:
    with pytest.raises(ValueError):
        make()
