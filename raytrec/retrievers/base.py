"""Retrievers: an index over item vectors in the mapper's distance, searched top-k."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from raytrec.data.store import UserItems
from raytrec.distance import DISTANCES


class Retriever(ABC):
    """Base class of retrieval indexes.

    ``build`` indexes ``(I, D)`` item vectors; ``search`` returns the ``k`` best items per query
    (scores: higher is better, ``-d²`` for l2). ``search_excluding`` adds per-user exclusion
    of already-seen items on top of any ``search``.
    """

    def build(self, items: np.ndarray, distance: str) -> None:
        if distance not in DISTANCES:
            raise ValueError(f"unknown distance {distance!r}; expected one of {DISTANCES}")
        self.distance = distance
        self.num_items = items.shape[0]
        self._build(np.ascontiguousarray(items, dtype=np.float32))

    @abstractmethod
    def _build(self, items: np.ndarray) -> None:
        """Index ``items (I, D)`` float32 in ``self.distance``."""

    @abstractmethod
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``queries (B, D)`` -> ``scores (B, k)``, ``ids (B, k)`` (``-1`` where fewer exist)."""

    def search_excluding(
        self, queries: np.ndarray, k: int, users: np.ndarray, exclude: UserItems
    ) -> np.ndarray:
        """Top-``k`` ids ``(B, k)`` per query, skipping each user's ``exclude`` items.

        Searches ``k + (most items excluded for any user of the chunk)`` and filters, so the
        result is exact for an exact index. Missing slots are ``-1``.
        """
        counts = exclude.counts()[users]
        kk = int(min(self.num_items, k + (counts.max() if len(counts) else 0)))
        _, ids = self.search(np.ascontiguousarray(queries, dtype=np.float32), kk)
        excluded = exclude.contains(users, ids, self.num_items) | (ids < 0)
        # Stable sort on the mask moves kept ids to the front, in rank order.
        order = np.argsort(excluded, axis=1, kind="stable")[:, :k]
        top = np.take_along_axis(ids, order, axis=1)
        top[np.take_along_axis(excluded, order, axis=1)] = -1
        if top.shape[1] < k:
            top = np.pad(top, ((0, 0), (0, k - top.shape[1])), constant_values=-1)
        return top
