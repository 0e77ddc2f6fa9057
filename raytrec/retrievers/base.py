"""Retrievers: an index over item vectors in the mapper's distance, searched top-k."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from raytrec.data.store import UserItems
from raytrec.distance import DISTANCES


class Retriever(ABC):
    """Base class of retrieval indexes.

    Writing a retriever:

    - Options go to ``__init__`` (see the rules for every component in ``raytrec.hookspecs``).
    - ``_build(items)`` indexes ``(I, D)`` float32 item vectors for ``self.distance``
      (``dot``, ``cosine`` or ``l2``; set by ``build``, which calls ``_build``). Pick the
      index's own metric from it: inner product for ``dot``, inner product on normalised
      vectors for ``cosine``, L2 for ``l2``.
    - ``search(queries (B, D), k)`` returns ``(scores, ids)`` in that order, both ``(B, k)``,
      best first, ids int64 (``-1`` where fewer than k exist), scores higher-is-better in
      the distance: ``-d²`` for ``l2`` (negate what an L2 index returns).
    - ``search_excluding`` (per-user exclusion of seen items) is built on ``search``.
    - Check with ``raytrec.testing.check_retriever(MyIndex)``, against exact search
      (``min_recall`` for an approximate index).
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
