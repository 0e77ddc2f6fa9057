"""Synthetic data: seeded, sized as asked, power-law popularity, clusters as configured."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from raytrec.data.synthetic import SyntheticDataset


def own_cluster_share(data: SyntheticDataset) -> tuple[float, float]:
    """Observed share of in-cluster interactions, and its upper bound.

    Out-of-cluster draws come from the whole catalogue, so some land in the user's own cluster
    anyway: with replacement, in ``in_cluster + (1 - in_cluster) * mass(own cluster)`` of all
    draws. Without replacement a little less, since the own cluster's items are partly taken.
    """
    raw = data.load()
    assert raw.user_features is not None and raw.item_features is not None
    users = raw.interactions["user"].to_numpy()
    items = raw.interactions["item"].to_numpy()
    user_cluster = raw.user_features["cluster"].to_numpy()[users]
    item_cluster = raw.item_features["cluster"].to_numpy()[items]
    observed = float((user_cluster == item_cluster).mean())
    weights = np.arange(1, data.num_items + 1) ** -data.popularity_exponent
    mass = np.bincount(raw.item_features["cluster"].to_numpy(), weights=weights)
    mass /= mass.sum()
    bound = data.in_cluster + (1 - data.in_cluster) * float(mass[user_cluster].mean())
    return observed, bound


def test_same_seed_same_data() -> None:
    a = SyntheticDataset(num_users=200, num_items=100, seed=5).load()
    b = SyntheticDataset(num_users=200, num_items=100, seed=5).load()
    pd.testing.assert_frame_equal(a.interactions, b.interactions)
    assert a.user_features is not None and b.user_features is not None
    pd.testing.assert_frame_equal(a.user_features, b.user_features)


def test_different_seed_different_data() -> None:
    a = SyntheticDataset(num_users=200, num_items=100, seed=1).load().interactions
    b = SyntheticDataset(num_users=200, num_items=100, seed=2).load().interactions
    assert abs(len(a) - len(b)) < 0.05 * len(a)
    assert not np.array_equal(a["item"].to_numpy(), b["item"].to_numpy())


def test_size_and_columns() -> None:
    raw = SyntheticDataset(num_users=1000, num_items=300, interactions_per_user=12.5).load()
    inter = raw.interactions
    assert raw.name == "synthetic"
    assert list(inter.columns) == ["user", "item", "timestamp"]
    assert inter["user"].dtype == np.int64 and inter["item"].dtype == np.int64
    assert 0.999 * 12_500 <= len(inter) <= 12_500
    assert inter["item"].between(0, 299).all()
    activity = np.bincount(inter["user"].to_numpy(), minlength=1000)
    assert activity.min() >= 1
    assert activity.max() > 3 * np.median(activity)  # activity varies across users
    assert not inter.duplicated(["user", "item"]).any()


def test_default_size_survives_deduplication() -> None:
    # Zipf popularity over 500 items makes repeats common; users must still get distinct items.
    inter = SyntheticDataset().load().interactions
    assert not inter.duplicated(["user", "item"]).any()
    assert len(inter) >= 0.995 * 20_000


def test_without_timestamps() -> None:
    raw = SyntheticDataset(num_users=10, num_items=10, timestamps=False).load()
    assert list(raw.interactions.columns) == ["user", "item"]


def test_power_law_popularity() -> None:
    raw = SyntheticDataset(num_users=1000, num_items=500, popularity_exponent=1.0).load()
    counts = np.bincount(raw.interactions["item"].to_numpy(), minlength=500)
    assert counts.max() > 10 * np.median(counts)
    assert counts.argmax() < 10  # low ids are the most popular
    flat = SyntheticDataset(num_users=1000, num_items=500, popularity_exponent=0.0,
                            in_cluster=0.0).load()
    flat_counts = np.bincount(flat.interactions["item"].to_numpy(), minlength=500)
    assert flat_counts.max() < 2 * np.median(flat_counts)


@pytest.mark.parametrize("in_cluster", [0.0, 0.5, 0.8, 1.0])
def test_in_cluster_share(in_cluster: float) -> None:
    data = SyntheticDataset(num_users=1000, num_items=2000, interactions_per_user=20,
                            num_clusters=10, in_cluster=in_cluster, seed=3)
    observed, bound = own_cluster_share(data)
    assert in_cluster - 0.01 <= observed <= bound + 0.01
    if in_cluster >= 0.8:
        assert abs(observed - in_cluster) < 0.03


@pytest.mark.parametrize("num_items", [10, 2000])  # small clusters: sorted keys; large: draws
def test_in_cluster_draws_follow_popularity(num_items: int) -> None:
    raw = SyntheticDataset(num_users=20_000, num_items=num_items, num_clusters=2,
                           interactions_per_user=1, in_cluster=1.0, seed=4).load()
    assert raw.user_features is not None
    inter = raw.interactions
    in_zero = raw.user_features["cluster"].to_numpy()[inter["user"].to_numpy()] == 0
    items = inter["item"].to_numpy()[in_zero]
    assert (items % 2 == 0).all()
    weights = 1.0 / np.arange(1, num_items + 1, 2)  # cluster 0: items 0, 2, 4, ... by rank
    share = np.bincount(items // 2, minlength=len(weights)) / len(items)
    np.testing.assert_allclose(share[:3], weights[:3] / weights.sum(), atol=0.02)


def test_ground_truth_features() -> None:
    raw = SyntheticDataset(num_users=50, num_items=40, num_clusters=4).load()
    assert raw.item_features is not None and raw.user_features is not None
    assert raw.item_features["cluster"].tolist() == [i % 4 for i in range(40)]
    assert raw.user_features["cluster"].between(0, 3).all()
    assert len(raw.user_features) == 50


@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_users": 0},
        {"num_items": -1},
        {"num_items": 2.5},
        {"num_clusters": 0},
        {"num_clusters": 11, "num_items": 10},
        {"interactions_per_user": 0.5},
        {"popularity_exponent": -0.1},
        {"in_cluster": 1.5},
        {"in_cluster": -0.1},
        {"in_cluster": float("nan")},
        {"seed": -1},
        {"num_users": True},
    ],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SyntheticDataset(**kwargs)  # type: ignore[arg-type]
