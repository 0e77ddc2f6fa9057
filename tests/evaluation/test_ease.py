"""EASE: the closed form is the constrained ridge regression, and it beats popularity where
items co-occur."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from raytrec.evaluation.ease import GRID, ease_metrics, fits, weights
from raytrec.evaluation.popularity import popularity_metrics


def test_the_closed_form_is_each_items_ridge_regression_on_the_others() -> None:
    rng = np.random.default_rng(0)
    x = (rng.random((40, 7)) < 0.3).astype(np.float64)
    lam = 2.5
    b = weights(x.T @ x, lam)
    for j in range(7):
        others = [i for i in range(7) if i != j]
        xo = x[:, others]
        direct = np.linalg.solve(xo.T @ xo + lam * np.eye(6), xo.T @ x[:, j])
        assert b[others, j] == pytest.approx(direct, abs=1e-5)
        assert b[j, j] == 0.0


def test_ease_beats_popularity_on_clustered_data(tiny_run: Path) -> None:
    data = tiny_run / "data"
    result = ease_metrics(data, [10, 20], "recall@20")
    popular = popularity_metrics(data, "test", [10, 20])
    assert result.test["recall@20"] > 1.2 * popular["recall@20"]
    from raytrec.data.store import read_info, read_user_items
    from raytrec.evaluation.ease import gram

    info = read_info(data)
    scale = np.diag(gram(read_user_items(data, "train", info.num_users), info.num_items)).mean()
    assert any(result.lam == pytest.approx(f * scale) for f in GRID)
    assert result.valid["users"] > 0 and result.test["users"] > 0


def test_a_catalogue_too_large_for_dense_matrices_does_not_fit() -> None:
    assert fits(1_000, 24 * 1024**3)
    assert not fits(1_000_000, 24 * 1024**3)
    assert fits(10_000, None) and not fits(20_000, None)  # free memory unknown: 4 GiB
