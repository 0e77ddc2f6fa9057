"""Seeded synthetic interactions with a known structure, for tests and benchmarks.

Item ``i`` belongs to cluster ``i % num_clusters`` and has popularity ``(i + 1) ** -exponent``
(so item 0 is the most popular). Each user prefers one cluster, drawn at random. Each of a
user's interactions comes, with probability ``in_cluster``, from that cluster, otherwise from
the whole catalogue, in both cases in proportion to popularity. The ground truth is the
``cluster`` column of the user and item feature tables.

A user never gets the same item twice (sampling without replacement), so the number of
interactions is the number asked for even after de-duplication; with strongly skewed
popularity this flattens the head a little, as in real data, where a hit can be watched once
per user. A few users who want nearly all of a small cluster may end up slightly short.

Everything is vectorised: inverse-CDF ``searchsorted`` draws whose repeats are found with one
stable sort per round, and, for users who want a large share of a small cluster, sorted random
keys over that cluster. Ten million interactions take seconds.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd

from raytrec.data.base import ITEM, TIMESTAMP, USER, Dataset, RawData
from raytrec.data.sizes import generated_problem
from raytrec.errors import ArgumentError

logger = logging.getLogger(__name__)

NAME = "synthetic"
# Timestamps are spread over one year from 2020-01-01 (seconds since 1970).
_T0, _SPAN = 1_577_836_800, 365 * 24 * 3600
# Spread of user activity: lognormal weights, so a few users are far more active than most.
_ACTIVITY_SIGMA = 0.8
# Rounds of top-up draws for users who drew repeats, and how much each round oversamples.
# The top-up stops early once a round fills less than ``_STALLED`` of what is missing: the last
# users who still miss items want nearly all of a small cluster, whose rarest items take very
# many draws.
_MAX_ROUNDS, _OVERSAMPLE, _MAX_OVERSAMPLE, _STALLED = 10, 1.25, 64, 0.1
# Streams wanting at least 1/_DENSE_SHARE of a cluster of at most _DENSE_RANGE items draw by
# sorting random keys over the whole cluster instead (in blocks of about _DENSE_CELLS keys).
_DENSE_RANGE, _DENSE_SHARE, _DENSE_CELLS = 1024, 8, 1 << 22


class SyntheticDataset(Dataset):
    """Clustered, power-law interactions whose structure is known.

    Args:
        num_users, num_items: catalogue sizes.
        interactions_per_user: mean interactions per user (each user has at least one, and at
            most ``num_items``); the total is ``round(num_users * interactions_per_user)``.
        num_clusters: number of taste clusters (at most ``num_items``).
        popularity_exponent: item popularity is proportional to ``rank ** -exponent``;
            0 gives uniform popularity.
        in_cluster: probability that an interaction is drawn from the user's own cluster (a
            user gets at most the whole cluster; any further interactions come from the rest).
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
            raise ArgumentError("num_clusters", f"must not exceed num_items ({num_clusters} > "
                                f"{num_items}): every cluster needs at least one item")
        self.interactions_per_user = _number("interactions_per_user", interactions_per_user, 1.0)
        self.popularity_exponent = _number("popularity_exponent", popularity_exponent, 0.0)
        self.in_cluster = _number("in_cluster", in_cluster, 0.0, 1.0)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ArgumentError("seed", f"must be a non-negative integer, got {seed!r}")
        self.seed = seed
        self.timestamps = bool(timestamps)
        problem = generated_problem(self.num_users, self.num_items, self.interactions_per_user)
        if problem is not None:
            raise problem

    def load(self) -> RawData:
        rng = np.random.default_rng(self.seed)
        catalogue = _Catalogue.build(self.num_items, self.num_clusters, self.popularity_exponent)
        user_cluster = rng.integers(self.num_clusters, size=self.num_users, dtype=np.int64)
        owner, ranges, targets = self._streams(rng, user_cluster, catalogue)
        dense = _dense_streams(catalogue, ranges, targets)
        picked = _dense_draws(rng, catalogue, dense, ranges, targets)
        rest = targets.copy()
        rest[dense] = 0
        stream, items = _distinct_draws(rng, catalogue, owner, ranges, rest, picked)
        # Rows grouped by user; the sort is cheap as each round's rows are already grouped.
        by_user = np.argsort(owner[stream], kind="stable")
        inter = pd.DataFrame({USER: owner[stream][by_user], ITEM: items[by_user]})
        if self.timestamps:
            inter[TIMESTAMP] = _T0 + rng.integers(_SPAN, size=len(inter), dtype=np.int64)
        short = int(targets.sum()) - len(inter)
        logger.info("%s: %d interactions (%d short of the target), %d users, %d items, "
                    "%d clusters", NAME, len(inter), short, self.num_users, self.num_items,
                    self.num_clusters)
        return RawData(
            interactions=inter,
            user_features=pd.DataFrame({"cluster": user_cluster},
                                       index=pd.RangeIndex(self.num_users, name=USER)),
            item_features=pd.DataFrame({"cluster": catalogue.item_cluster},
                                       index=pd.RangeIndex(self.num_items, name=ITEM)),
            name=NAME,
        )

    def _activity(self, rng: np.random.Generator) -> np.ndarray:
        """Interactions per user: one each, the rest spread by lognormal weights."""
        total = max(self.num_users, round(self.num_users * self.interactions_per_user))
        weights = rng.lognormal(0.0, _ACTIVITY_SIGMA, size=self.num_users)
        extra = rng.multinomial(total - self.num_users, weights / weights.sum())
        return np.minimum(extra.astype(np.int64) + 1, self.num_items)

    def _streams(
        self, rng: np.random.Generator, user_cluster: np.ndarray, catalogue: _Catalogue
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Two draw streams per user (own cluster, whole catalogue): owner, range, size.

        Stream ``2u`` draws from user ``u``'s cluster, stream ``2u + 1`` from the catalogue
        (range ``num_clusters``); how many interactions each gets is one binomial per user.
        """
        activity = self._activity(rng)
        own = np.minimum(rng.binomial(activity, self.in_cluster),
                         catalogue.sizes[user_cluster])
        users = np.arange(self.num_users, dtype=np.int64)
        owner = np.repeat(users, 2)
        ranges = np.stack([user_cluster, np.full_like(users, self.num_clusters)], 1).ravel()
        targets = np.stack([own, activity - own], 1).ravel()
        return owner, ranges, targets


@dataclass(frozen=True)
class _Catalogue:
    """Item popularity as one CDF in which every cluster is a contiguous range.

    Range ``c < num_clusters`` is cluster ``c``; range ``num_clusters`` is the whole catalogue.
    """

    item_cluster: np.ndarray  # (I,) cluster of each item
    order: np.ndarray  # CDF position -> item id
    log_weights: np.ndarray  # log popularity by CDF position (never underflows)
    cdf: np.ndarray
    sizes: np.ndarray  # (C,) items per cluster
    starts: np.ndarray  # (C + 1,) first CDF position of each range
    ends: np.ndarray  # (C + 1,) one past the last
    low: np.ndarray  # (C + 1,) CDF mass before each range
    mass: np.ndarray  # (C + 1,) popularity mass of each range

    @classmethod
    def build(cls, num_items: int, num_clusters: int, exponent: float) -> _Catalogue:
        item_cluster = np.arange(num_items, dtype=np.int64) % num_clusters
        order = np.argsort(item_cluster, kind="stable")
        log_weights = -exponent * np.log1p(order.astype(np.float64))
        cdf = np.cumsum(np.exp(log_weights))
        sizes = np.bincount(item_cluster, minlength=num_clusters)
        ends = np.append(np.cumsum(sizes), num_items)
        starts = np.append(ends[:num_clusters] - sizes, 0)
        low = np.append(0.0, cdf)[starts]
        mass = cdf[ends - 1] - low
        return cls(item_cluster, order, log_weights, cdf, sizes, starts, ends, low, mass)

    def draw(self, rng: np.random.Generator, ranges: np.ndarray) -> np.ndarray:
        """One item per entry of ``ranges``, in proportion to popularity (inverse CDF)."""
        targets = self.low[ranges] + rng.random(len(ranges)) * self.mass[ranges]
        # ``low`` is an entry of ``cdf``, so no draw lands before its range; rounding of
        # ``low + mass`` could land one past the end.
        pos = np.searchsorted(self.cdf, targets, side="right")
        np.minimum(pos, self.ends[ranges] - 1, out=pos)
        return self.order[pos]


def _dense_streams(catalogue: _Catalogue, ranges: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Streams that want a large share of a small cluster; repeats would make them slow."""
    clusters = len(catalogue.sizes)
    size = catalogue.ends[ranges] - catalogue.starts[ranges]
    return (ranges < clusters) & (size <= _DENSE_RANGE) & (targets * _DENSE_SHARE >= size)


def _dense_draws(
    rng: np.random.Generator, catalogue: _Catalogue, dense: np.ndarray, ranges: np.ndarray,
    targets: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Draws without replacement for the ``dense`` streams, all in one go per cluster.

    Each item of the range gets the key ``Exp(1) / weight`` (compared as logarithms); the
    ``target`` smallest keys are a sample without replacement in proportion to popularity
    (Efraimidis and Spirakis).
    """
    streams = np.flatnonzero(dense)
    streams = streams[np.argsort(ranges[streams], kind="stable")]
    bounds = np.flatnonzero(np.diff(ranges[streams])) + 1
    picked_stream, picked_item = [streams[:0]], [streams[:0]]
    for group in np.split(streams, bounds) if len(streams) else []:
        lo, hi = catalogue.starts[ranges[group[0]]], catalogue.ends[ranges[group[0]]]
        chunk = max(1, _DENSE_CELLS // (hi - lo))
        for part in range(0, len(group), chunk):
            rows = group[part : part + chunk]
            noise = rng.standard_exponential((len(rows), hi - lo))
            keys = np.log(noise) - catalogue.log_weights[lo:hi]
            kth = np.sort(keys, axis=1)[np.arange(len(rows)), targets[rows] - 1]
            row, col = np.nonzero(keys <= kth[:, None])
            picked_stream.append(rows[row])
            picked_item.append(catalogue.order[lo + col])
    return np.concatenate(picked_stream), np.concatenate(picked_item)


def _distinct_draws(
    rng: np.random.Generator, catalogue: _Catalogue, owner: np.ndarray, ranges: np.ndarray,
    targets: np.ndarray, kept: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``targets[s]`` draws for each stream ``s``, no item twice for one owner.

    ``kept`` are rows already chosen (they count against no target but block their items).
    Draws that repeat an owner's item are skipped and made up in the next round. Skipping
    repeats of an i.i.d. sequence is sampling without replacement, and later rounds continue
    that same sequence, so oversampling (surplus draws are dropped) changes nothing but speed.
    """
    num_items = len(catalogue.order)
    deficit = targets.astype(np.int64)
    done: list[tuple[np.ndarray, np.ndarray]] = []
    # Rows kept for owners who still miss some; finished owners' rows move to ``done``.
    active = _retire(owner, deficit, kept, done)
    factor = _OVERSAMPLE
    for _ in range(_MAX_ROUNDS):
        missing = int(deficit.sum())
        if missing == 0:
            break
        pending = np.flatnonzero(deficit)
        counts = np.ceil(deficit[pending] * factor).astype(np.int64)
        stream = np.repeat(pending, counts)
        items = catalogue.draw(rng, ranges[stream])
        fresh = _first_new(owner, *active, stream, items, num_items)
        keep = fresh & (_rank_in_block(fresh, counts) <= deficit[stream])
        deficit -= np.bincount(stream[keep], minlength=len(deficit))
        active = (np.concatenate([active[0], stream[keep]]),
                  np.concatenate([active[1], items[keep]]))
        active = _retire(owner, deficit, active, done)
        if keep.sum() < _STALLED * missing:
            break
        # Next round: enough draws for the share of new items this round found.
        factor = min(_MAX_OVERSAMPLE, _OVERSAMPLE * len(stream) / max(int(fresh.sum()), 1))
    done.append(active)
    return np.concatenate([d[0] for d in done]), np.concatenate([d[1] for d in done])


def _retire(
    owner: np.ndarray, deficit: np.ndarray, rows: tuple[np.ndarray, np.ndarray],
    done: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """Move the rows of owners who miss nothing to ``done``; return the others."""
    finished = np.bincount(owner, weights=deficit, minlength=int(owner.max()) + 1) == 0
    out = finished[owner[rows[0]]]
    done.append((rows[0][out], rows[1][out]))
    return rows[0][~out], rows[1][~out]


def _first_new(
    owner: np.ndarray, old_stream: np.ndarray, old_item: np.ndarray, stream: np.ndarray,
    items: np.ndarray, num_items: int,
) -> np.ndarray:
    """Mask of new draws whose item the owner has neither kept before nor drawn earlier."""
    keys = np.concatenate([owner[old_stream] * num_items + old_item,
                           owner[stream] * num_items + items])
    # Stable: among equal keys the earliest (kept items first, then draw order) sorts first.
    perm = np.argsort(keys, kind="stable")
    sorted_keys = keys[perm]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    is_first = np.zeros(len(keys), dtype=bool)
    is_first[perm[first]] = True
    return is_first[len(old_stream):]


def _rank_in_block(mask: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """1-based rank of each True of ``mask`` within its block (``counts`` contiguous blocks)."""
    total = np.cumsum(mask)
    starts = np.cumsum(counts) - counts
    before = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0)
    return total - np.repeat(before, counts)


def _positive_int(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ArgumentError(key, f"must be a positive integer, got {value!r}")
    return value


def _number(key: str, value: object, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not low <= float(value) <= high:
        bounds = f"between {low:g} and {high:g}" if high < math.inf else f">= {low:g}"
        raise ArgumentError(key, f"must be a number {bounds}, got {value!r}")
    return float(value)
