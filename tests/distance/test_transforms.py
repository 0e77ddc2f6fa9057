"""The reductions between search problems keep each query's order of items."""

from __future__ import annotations

import numpy as np

from raytrec.distance.transforms import (
    dot_as_angle,
    dot_as_l2,
    l2_as_dot,
    l2_as_dot_queries,
    largest_norm,
    normalised,
    zero_column,
)

RNG = np.random.default_rng(0)
# Norms spread over two orders of magnitude: where inner product and angle disagree most.
ITEMS = (RNG.normal(size=(300, 8)) * RNG.uniform(0.05, 5.0, size=(300, 1))).astype(np.float32)
QUERIES = (RNG.normal(size=(20, 8)) * 3).astype(np.float32)


def _order(scores: np.ndarray) -> np.ndarray:
    return np.argsort(-scores, axis=1, kind="stable")[:, :50]


def test_dot_as_l2_nearest_are_the_largest_inner_products() -> None:
    items, queries = dot_as_l2(ITEMS, largest_norm(ITEMS)), zero_column(QUERIES)
    d2 = ((queries[:, None, :].astype(np.float64) - items[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(_order(-d2), _order(QUERIES @ ITEMS.T))


def test_dot_as_angle_orders_by_inner_product_on_unit_vectors() -> None:
    items = dot_as_angle(ITEMS, largest_norm(ITEMS))
    queries = zero_column(normalised(QUERIES))
    np.testing.assert_allclose(np.linalg.norm(items, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(_order(queries @ items.T), _order(QUERIES @ ITEMS.T))


def test_l2_as_dot_orders_as_negative_squared_distance() -> None:
    dots = l2_as_dot_queries(QUERIES).astype(np.float64) @ l2_as_dot(ITEMS).T
    d2 = ((QUERIES[:, None, :].astype(np.float64) - ITEMS[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(_order(dots), _order(-d2))


def test_zero_vectors_stay_finite() -> None:
    zeros = np.zeros((5, 4), np.float32)
    assert largest_norm(zeros) == 1.0
    assert np.isfinite(dot_as_angle(zeros, largest_norm(zeros))).all()
    assert np.isfinite(normalised(zeros)).all() and not normalised(zeros).any()
