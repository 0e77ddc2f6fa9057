"""Each ``Distance`` scores alike on every path: pairs, candidates, all items in torch and
NumPy, picked items, through FAISS and through its MIPS transform."""

from __future__ import annotations

import pickle

import faiss
import numpy as np
import pytest
import torch

from raytrec.distance import (
    COSINE,
    DISTANCES,
    DOT,
    L2,
    Distance,
    as_distance,
    distance_named,
)
from raytrec.distance.transforms import normalised
from raytrec.mappers import ItemModel
from raytrec.mappers.embedding import EmbeddingMapper
from raytrec.retrievers.faiss_flat import FaissFlatRetriever

ALL = [distance_named(name) for name in DISTANCES]
RNG = np.random.default_rng(0)
# Norms spread over two orders of magnitude; one zero item.
ITEMS = (RNG.normal(size=(200, 8)) * RNG.uniform(0.05, 5.0, size=(200, 1))).astype(np.float32)
ITEMS[7] = 0
QUERIES = (RNG.normal(size=(12, 8)) * 2).astype(np.float32)


def _close(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor) -> None:
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                               rtol=1e-5, atol=1e-4)


def _exact(distance: Distance) -> np.ndarray:
    """``(B, I)`` scores by the definition, in float64."""
    q, x = QUERIES.astype(np.float64), ITEMS.astype(np.float64)
    if distance is L2:
        return -((q[:, None, :] - x[None]) ** 2).sum(-1)
    if distance is COSINE:
        q, x = normalised(q).astype(np.float64), normalised(x).astype(np.float64)
    return q @ x.T


def test_lookup_by_name_and_refusal_naming_the_known_ones() -> None:
    assert [d.name for d in ALL] == ["dot", "cosine", "l2"]
    assert (distance_named("dot"), distance_named("cosine"), distance_named("l2")) == \
        (DOT, COSINE, L2)
    assert as_distance(L2) is L2 and as_distance("l2") is L2
    with pytest.raises(ValueError, match="unknown distance 'euclidean'; known distances: "
                                         "dot, cosine, l2"):
        distance_named("euclidean")


@pytest.mark.parametrize("distance", ALL, ids=DISTANCES)
def test_a_distance_is_its_name_and_pickles_to_itself(distance: Distance) -> None:
    assert distance == distance.name and str(distance) == f"{distance}" == distance.name
    assert distance in DISTANCES and {distance.name: 1}[distance] == 1
    assert all(other != distance for other in ALL if other is not distance)
    assert pickle.loads(pickle.dumps(distance)) is distance


@pytest.mark.parametrize("distance", ALL, ids=DISTANCES)
@pytest.mark.parametrize("n", [3, 8, 9, 40])  # both sides of the elementwise fast path
def test_candidate_scores_agree_with_pair_scores(distance: Distance, n: int) -> None:
    g = torch.Generator().manual_seed(n)
    q, v = torch.randn(5, 8, generator=g), torch.randn(5, n, 8, generator=g)
    pairs = torch.stack([distance.pair_scores(q, v[:, j]) for j in range(n)], 1)
    _close(distance.candidate_scores(q, v), pairs)
    shared = torch.randn(n, 8, generator=g)
    _close(distance.candidate_scores(q, shared), distance.candidate_scores(
        q, shared.expand(5, n, 8).contiguous()))
    sq = shared.pow(2).sum(1) if distance.needs_norms else None
    _close(distance.from_dots(q @ shared.T, q, sq), distance.candidate_scores(q, shared))


@pytest.mark.parametrize("distance", ALL, ids=DISTANCES)
def test_all_item_scores_agree_in_numpy_torch_and_by_definition(distance: Distance) -> None:
    exact = _exact(distance)
    _close(distance.all_scores(QUERIES, ITEMS), exact)
    _close(distance.tensor_scorer(torch.from_numpy(ITEMS))(torch.from_numpy(QUERIES)), exact)
    _close(distance.candidate_scores(torch.from_numpy(QUERIES), torch.from_numpy(ITEMS)), exact)
    ids = RNG.integers(0, len(ITEMS), size=(len(QUERIES), 6))
    _close(distance.picked_scores(QUERIES.astype(np.float64), ITEMS[ids].astype(np.float64)),
           np.take_along_axis(exact, ids, 1))


@pytest.mark.parametrize("distance", ALL, ids=DISTANCES)
def test_the_mips_transform_ranks_as_the_distance(distance: Distance) -> None:
    dots = distance.mips_queries(QUERIES.astype(np.float64)) @ \
        distance.mips_items(ITEMS).astype(np.float64).T
    order = np.argsort(-dots, axis=1, kind="stable")[:, :30]
    exact = _exact(distance)
    # Same ranking: the exact scores read in the transform's order never increase.
    assert (np.diff(np.take_along_axis(exact, order, 1), axis=1) <= 1e-4).all()
    _close(distance.from_inner(dots, QUERIES.astype(np.float64)), exact)
    if distance.unit:
        assert np.allclose(np.linalg.norm(distance.mips_items(ITEMS[ITEMS.any(1)]), axis=1), 1)


@pytest.mark.parametrize("distance", ALL, ids=DISTANCES)
def test_a_faiss_index_of_its_metric_gives_its_scores(distance: Distance) -> None:
    index = faiss.IndexFlat(ITEMS.shape[1], distance.faiss_metric)
    index.add(np.ascontiguousarray(distance.indexed(ITEMS)))
    found, ids = index.search(np.ascontiguousarray(distance.indexed(QUERIES)), 10)
    _close(distance.from_faiss(found), np.take_along_axis(_exact(distance), ids, 1))
    assert distance.faiss_metric == (faiss.METRIC_L2 if distance is L2
                                     else faiss.METRIC_INNER_PRODUCT)


def test_components_hold_the_object_whether_given_it_or_its_name() -> None:
    class Named(ItemModel):
        distance = "cosine"

        def setup(self, info: object) -> None: ...

        def items(self, ids: torch.Tensor) -> torch.Tensor:
            return torch.zeros(*ids.shape, 2)

    assert Named.distance is COSINE and Named().distance is COSINE
    mapper = Named()
    mapper.distance = "l2"
    assert mapper.distance is L2
    mapper.distance = "hamming"  # not a distance: left for validation to report
    assert mapper.distance == "hamming"
    assert EmbeddingMapper(distance="dot").distance is DOT
    retriever = FaissFlatRetriever()
    retriever.build(ITEMS, "l2")
    assert retriever.distance is L2
    retriever.build(ITEMS, COSINE)
    assert retriever.distance is COSINE
    with pytest.raises(ValueError, match="known distances: dot, cosine, l2"):
        retriever.build(ITEMS, "manhattan")
