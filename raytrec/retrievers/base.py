"""Retrievers: an index over item vectors in the mapper's distance, searched top-k."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, astuple, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from raytrec.data.store import UserItems
from raytrec.distance import Distance, as_distance

WIDER = 3  # searches, each twice as wide, before the short rows are searched exactly
EXACT_CELLS = 1 << 24  # scores held at once when rows are searched exactly (64 MiB)


@dataclass
class SearchStats:
    """One build of an index and its ``search_excluding`` calls: seconds building and
    searching, rows (queries) searched, rows searched again wider, and rows that no wider
    search filled and were searched exactly."""

    build_seconds: float = 0.0
    search_seconds: float = 0.0
    rows: int = 0
    widened: int = 0
    exact: int = 0

    def add(self, other: SearchStats) -> SearchStats:
        return SearchStats(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def report(self) -> dict[str, Any]:
        """The counts with ``queries_per_s``."""
        return {**asdict(self), "queries_per_s": self.rows / max(self.search_seconds, 1e-9)}


class Retriever(ABC):
    """Base class of retrieval indexes.

    Writing a retriever:

    - Options go to ``__init__`` (see the rules for every component in ``raytrec.hookspecs``);
      ``check(num_items, dim, k)`` raises ``ValueError`` naming the option
      (``"nlist=4096 is ..."``) when it cannot serve the data; it runs before training.
    - ``_build(items)`` indexes ``(I, D)`` float32 item vectors for ``self.distance``, a
      ``raytrec.distance.Distance`` (``dot``, ``cosine`` or ``l2``; set by ``build``, which
      calls ``_build`` and keeps the vectors as ``self.items``). Ask it rather than compare
      its name: ``faiss_metric`` and ``indexed`` for an index of that metric,
      ``mips_items``/``mips_queries`` for one that only does inner products (then L2 or
      angles, ``raytrec.distance.transforms``), ``item_scorer`` for exact scores; the
      contract is in ``Distance``'s docstring.
    - ``search(queries (B, D), k)`` returns ``(scores, ids)`` in that order, both ``(B, k)``,
      best first, ids int64 (``-1`` where fewer than k were found), scores higher-is-better
      in the distance: ``-d²`` for ``l2`` (an index searching a transformed space converts
      its distances back: ``Distance.from_faiss``, ``from_inner``,
      ``transforms.inner_from_l2``).
    - Set ``exact = True`` on an exact index. An approximate one may override
      ``search_wider(queries, k, attempt)``: the same search made wider (more probes, a
      larger beam) for ``attempt`` = 1, 2, ...
    - ``search_excluding`` (per-user exclusion of seen items) is built on these.
    - ``save(directory)`` / ``load(directory, saved, items, distance)`` let ``raytrec export``
      ship the built index (``FaissFileRetriever`` does it for one FAISS index); without
      them an export builds the index again when it is loaded.
    - Check with ``raytrec.testing.check_retriever(MyIndex)``, against exact search
      (``min_recall`` for an approximate index).
    """

    exact = False

    def check(self, num_items: int, dim: int, k: int) -> None:
        """Raise ``ValueError`` naming the option if this index cannot serve ``num_items``
        vectors of ``dim`` searched top-``k``; any index serves a non-empty catalogue."""
        if num_items < 1:
            raise ValueError("the catalogue is empty: there is nothing to index")

    def min_build_items(self) -> int:
        """The fewest vectors this index can be built on (an IVF index: its ``nlist``)."""
        return 1

    def build(self, items: np.ndarray, distance: Distance | str) -> None:
        self._take(items, distance)
        start = time.perf_counter()
        self._build(self.items)
        self.stats.build_seconds = time.perf_counter() - start

    def save(self, directory: Path) -> dict[str, Any]:
        """Write the built index into ``directory`` for serving and return what ``load``
        needs (file names, transform parameters; kept in an export's manifest, so JSON).
        By default nothing: ``load`` builds the index again from the item vectors."""
        return {}

    def load(self, directory: Path, saved: dict[str, Any], items: np.ndarray,
             distance: Distance | str) -> None:
        """Restore what ``save`` wrote (``saved``) over the same ``items``; by default
        ``build``."""
        self.build(items, distance)

    def release(self) -> None:
        """Drop the index the last ``build`` or ``load`` made and the vectors it kept
        (everything set since the options, but its ``stats``), so that the next one does
        not hold two indexes at once; ``search`` needs a new build after it."""
        options = self.__dict__.setdefault("_options", frozenset(vars(self)))
        keep = options | {"_options", "stats"}
        for name in [n for n in vars(self) if n not in keep]:
            delattr(self, name)

    def _take(self, items: np.ndarray, distance: Distance | str) -> None:
        """What ``build`` and ``load`` keep of the item vectors before indexing them."""
        self.release()
        self.distance = as_distance(distance)
        self.num_items = items.shape[0]
        self.items = np.ascontiguousarray(items, dtype=np.float32)
        self._scorer: Callable[[np.ndarray], np.ndarray] | None = None  # of search_exactly
        self.stats = SearchStats()

    @abstractmethod
    def _build(self, items: np.ndarray) -> None:
        """Index ``items (I, D)`` float32 in ``self.distance``."""

    @abstractmethod
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``queries (B, D)`` -> ``scores (B, k)``, ``ids (B, k)`` (``-1`` where fewer exist)."""

    def search_wider(self, queries: np.ndarray, k: int,
                     attempt: int) -> tuple[np.ndarray, np.ndarray]:
        """``search`` made wider for the ``attempt``-th time; by default the same search."""
        return self.search(queries, k)

    def _all_scores(self, queries: np.ndarray) -> np.ndarray:
        """``(B, I)`` exact scores of every item."""
        if self._scorer is None:
            self._scorer = self.distance.item_scorer(self.items)
        return self._scorer(queries.astype(np.float32))

    def search_exactly(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` over every item by brute force on ``self.items``, in row chunks."""
        k = min(k, self.num_items)
        rows = max(1, EXACT_CELLS // max(self.num_items, 1))
        out_s, out_i = [], []
        for start in range(0, len(queries), rows):
            scores = self._all_scores(queries[start:start + rows])
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            s = np.take_along_axis(scores, top, axis=1)
            order = np.argsort(-s, axis=1, kind="stable")
            out_s.append(np.take_along_axis(s, order, axis=1))
            out_i.append(np.take_along_axis(top, order, axis=1).astype(np.int64))
        return np.concatenate(out_s), np.concatenate(out_i)

    def search_excluding(
        self, queries: np.ndarray, k: int, users: np.ndarray, exclude: UserItems
    ) -> np.ndarray:
        return self.search_excluding_scored(queries, k, users, exclude)[1]

    def search_excluding_scored(
        self, queries: np.ndarray, k: int, users: np.ndarray, exclude: UserItems,
        ids_of: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ids ``(B, k)`` per query, skipping each user's ``exclude`` items.

        Searches ``k + (most items excluded for any user of the chunk)`` and filters, which
        is exact for an exact index. A row that an approximate search left with fewer than
        ``k`` unseen items (fewer only if the user has not that many left) is searched again,
        twice as wide each time (``search_wider``), ``WIDER`` times, then exactly: lists are
        never silently short. ``self.stats`` counts the rows of each kind. Missing slots are
        ``-1``.

        ``search_excluding_scored`` gives their scores too (``-inf`` in missing slots), and
        with ``ids_of`` (the catalogue id of each indexed vector: an index over one worker's
        share of the items) the ids are catalogue ids, and so are the ``exclude`` items.
        """
        start = time.perf_counter()
        try:
            return self._search_excluding(np.ascontiguousarray(queries, dtype=np.float32), k,
                                          users, exclude, ids_of)
        finally:
            self.stats.search_seconds += time.perf_counter() - start

    def _search_excluding(self, q: np.ndarray, k: int, users: np.ndarray,
                          exclude: UserItems, ids_of: np.ndarray | None
                          ) -> tuple[np.ndarray, np.ndarray]:
        counts = exclude.counts()[users]
        # What a full list holds (an index over a share of the items: at most its size).
        want = np.minimum(k, self.num_items - (counts if ids_of is None else 0))
        kk = int(min(self.num_items, k + (counts.max() if len(counts) else 0)))
        scores, top = self._unseen(*self.search(q, kk), users, exclude, k, ids_of)
        self.stats.rows += len(users)
        if self.exact:
            return scores, top
        for attempt in [*range(1, WIDER + 1), None]:
            short = np.flatnonzero((top >= 0).sum(1) < want)
            if not len(short):
                break
            if attempt is None:
                self.stats.exact += len(short)
                found = self.search_exactly(q[short], kk)
            else:
                self.stats.widened += len(short) if attempt == 1 else 0
                wide = int(min(self.num_items, kk * 2 ** attempt))
                found = self.search_wider(q[short], wide, attempt)
            scores[short], top[short] = self._unseen(*found, users[short], exclude, k, ids_of)
        return scores, top

    def _unseen(self, scores: np.ndarray, ids: np.ndarray, users: np.ndarray,
                exclude: UserItems, k: int, ids_of: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray]:
        """The first ``k`` ids of each row that the user has not seen, ``-1``-padded, and
        their scores (``-inf``-padded)."""
        size = self.num_items
        if ids_of is not None:
            ids = np.where(ids >= 0, ids_of[np.maximum(ids, 0)], -1)
            # Any bound above every id the two hold serves ``contains``.
            size = int(max(ids_of.max(initial=0), exclude.indices.max(initial=0))) + 1
        excluded = exclude.contains(users, ids, size) | (ids < 0)
        # Stable sort on the mask moves kept ids to the front, in rank order.
        order = np.argsort(excluded, axis=1, kind="stable")[:, :k]
        top = np.take_along_axis(ids, order, axis=1)
        kept = np.take_along_axis(scores, order, axis=1).astype(np.float32)
        gone = np.take_along_axis(excluded, order, axis=1)
        top[gone] = -1
        kept[gone] = -np.inf
        return _pad(kept, k, -np.inf), _pad(top, k, -1)


def _pad(a: np.ndarray, k: int, value: float) -> np.ndarray:
    if a.shape[1] >= k:
        return a
    return np.pad(a, ((0, 0), (0, k - a.shape[1])), constant_values=value)
