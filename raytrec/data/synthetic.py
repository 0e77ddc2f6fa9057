"""Seeded synthetic interactions with a known structure, for tests and benchmarks.

Item ``i`` belongs to cluster ``i % num_clusters`` and has popularity ``(i + 1) ** -exponent``
(so item 0 is the most popular). Each user prefers one cluster, drawn at random; each of the
user's interactions comes, with probability ``in_cluster``, from that cluster, otherwise from
the whole catalogue, in both cases in proportion to popularity. The ground truth is the
``cluster`` column of the user and item feature tables.

Everything is vectorised (one inverse-CDF ``searchsorted`` for all draws), so that millions of
interactions take seconds.
"""

from __future__ import annotations

import logging
import math
from numbers import Real

import numpy as np
import pandas as pd

from raytrec.data.base import ITEM, TIMESTAMP, USER, Dataset, RawData

logger = logging.getLogger(__name__)

NAME = "synthetic"
# Timestamps are spread over one year from 2020-01-01 (seconds since 1970).
_T0, _SPAN = 1_577_836_800, 365 * 24 * 3600
# Spread of user activity: lognormal weights, so a few users are far more active than most.
_ACTIVITY_SIGMA = 1.0


class SyntheticDataset(Dataset):
    """Clustered, power-law interactions whose structure is known.

    Args:
        num_users, num_items: catalogue sizes.
        interactions_per_user: mean interactions per user (each user has at least one); the
            total is ``round(num_users * interactions_per_user)``, duplicates included.
        num_clusters: number of taste clusters (at most ``num_items``).
        popularity_exponent: item popularity is proportional to ``rank ** -exponent``;
            0 gives uniform popularity.
        in_cluster: probability that an interaction is drawn from the user's own cluster.
        seed: the same seed gives the same data.
        timestamps: add a ``timestamp`` column (random times over one year).
    """

    name = NAME

    def __init__(
        self, num_users: int = 1000, num_items: int = 500, interactions_per_user: float = 20.0,
        num_clusters: int = 10, popularity_exponent: float = 1.0, in_cluster: float = 0.8,
        seed: int = 0, timestamps: bool = True,
    ) -> None:
        self.num_users = _positive_int("num_users", num_users)
        self.num_items = _positive_int("num_items", num_items)
        self.num_clusters = _positive_int("num_clusters", num_clusters)
        if self.num_clusters > self.num_items:
            raise ValueError(f"num_clusters ({num_clusters}) must not exceed num_items "
                             f"({num_items}): every cluster needs at least one item")
        self.interactions_per_user = _number("interactions_per_user", interactions_per_user, 1.0)
        self.popularity_exponent = _number("popularity_exponent", popularity_exponent, 0.0)
        self.in_cluster = _number("in_cluster", in_cluster, 0.0, 1.0)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = seed
        self.timestamps = bool(timestamps)

    def load(self) -> RawData:
        rng = np.random.default_rng(self.seed)
        item_cluster = np.arange(self.num_items, dtype=np.int64) % self.num_clusters
        user_cluster = rng.integers(self.num_clusters, size=self.num_users, dtype=np.int64)
        users = np.repeat(np.arange(self.num_users, dtype=np.int64), self._activity(rng))
        items = self._draw_items(rng, user_cluster[users])
        inter = pd.DataFrame({USER: users, ITEM: items})
        if self.timestamps:
            inter[TIMESTAMP] = _T0 + rng.integers(_SPAN, size=len(users), dtype=np.int64)
        logger.info("%s: %d interactions, %d users, %d items, %d clusters", NAME, len(inter),
                    self.num_users, self.num_items, self.num_clusters)
        return RawData(
            interactions=inter,
            user_features=pd.DataFrame({"cluster": user_cluster},
                                       index=pd.RangeIndex(self.num_users, name=USER)),
            item_features=pd.DataFrame({"cluster": item_cluster},
                                       index=pd.RangeIndex(self.num_items, name=ITEM)),
            name=NAME,
        )

    def _activity(self, rng: np.random.Generator) -> np.ndarray:
        """Interactions per user: one each, the rest spread by lognormal weights."""
        total = max(self.num_users, round(self.num_users * self.interactions_per_user))
        weights = rng.lognormal(0.0, _ACTIVITY_SIGMA, size=self.num_users)
        extra = rng.multinomial(total - self.num_users, weights / weights.sum())
        return extra.astype(np.int64) + 1

    def _draw_items(self, rng: np.random.Generator, clusters: np.ndarray) -> np.ndarray:
        """For each interaction (of a user in ``clusters``), one item by inverse-CDF sampling."""
        n, k = self.num_items, self.num_clusters
        weights = np.arange(1, n + 1, dtype=np.float64) ** -self.popularity_exponent
        # Items grouped by cluster, so that each cluster is one contiguous range of the CDF;
        # range ``k`` (past the clusters) is the whole catalogue, for out-of-cluster draws.
        order = np.argsort(np.arange(n) % k, kind="stable")
        cdf = np.cumsum(weights[order])
        sizes = np.bincount(np.arange(n) % k, minlength=k)
        ends = np.append(np.cumsum(sizes), n)
        starts = np.append(ends[:k] - sizes, 0)
        low = np.append(0.0, cdf)[starts]
        mass = cdf[ends - 1] - low
        ranges = np.where(rng.random(len(clusters)) < self.in_cluster, clusters, k)
        targets = low[ranges] + rng.random(len(clusters)) * mass[ranges]
        pos = np.searchsorted(cdf, targets, side="right")
        # Floating-point rounding must not push a draw out of its range.
        np.clip(pos, starts[ranges], ends[ranges] - 1, out=pos)
        return order[pos]


def _positive_int(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{key} must be a positive integer, got {value!r}")
    return value


def _number(key: str, value: object, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not low <= float(value) <= high:
        bounds = f"between {low:g} and {high:g}" if high < math.inf else f">= {low:g}"
        raise ValueError(f"{key} must be a number {bounds}, got {value!r}")
    return float(value)
