"""Full-ranking evaluation in bounded chunks, summed so shards combine exactly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from raytrec.data.store import UserItems
from raytrec.evaluation.metrics import metric_names, per_user
from raytrec.retrievers.base import Retriever


@dataclass
class MetricSums:
    """Sums of per-user metrics and the number of users: add shards, then ``means``."""

    sums: dict[str, float] = field(default_factory=dict)
    users: int = 0

    @classmethod
    def from_means(cls, means: dict[str, float]) -> MetricSums:
        """The inverse of ``means``."""
        users = int(means["users"])
        return cls({k: v * users for k, v in means.items() if k != "users"}, users)

    def add(self, other: MetricSums) -> MetricSums:
        keys = self.sums.keys() | other.sums.keys()
        return MetricSums({k: self.sums.get(k, 0.0) + other.sums.get(k, 0.0) for k in keys},
                          self.users + other.users)

    def means(self) -> dict[str, float]:
        out = {k: v / self.users if self.users else 0.0 for k, v in sorted(self.sums.items())}
        out["users"] = float(self.users)
        return out


def evaluate(
    queries: Callable[[np.ndarray], np.ndarray],
    retriever: Retriever,
    users: np.ndarray,
    relevant: UserItems,
    exclude: UserItems,
    ks: list[int],
    chunk_size: int = 2048,
) -> MetricSums:
    """Rank every item for each of ``users`` (in chunks) and sum the metrics.

    Args:
        queries: user ids ``(b,)`` -> query vectors ``(b, D)`` float32.
        retriever: built over all item vectors.
        users: the users to score (each exactly once).
        relevant: held-out items per user (the answers).
        exclude: items never recommended to that user (seen in training).
    """
    total = MetricSums(dict.fromkeys(metric_names(ks), 0.0))
    k = max(ks)
    for start in range(0, len(users), chunk_size):
        batch = users[start:start + chunk_size]
        top = retriever.search_excluding(queries(batch), k, batch, exclude)
        scores = per_user(top, batch, relevant, ks, retriever.num_items)
        total = total.add(MetricSums({n: float(v.sum()) for n, v in scores.items()}, len(batch)))
    return total
