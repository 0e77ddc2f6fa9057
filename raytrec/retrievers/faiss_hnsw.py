"""Approximate search on a FAISS HNSW graph."""

from __future__ import annotations

import faiss
import numpy as np

from raytrec.distance.transforms import dot_as_l2, inner_from_l2, largest_norm, zero_column
from raytrec.errors import ArgumentError
from raytrec.retrievers.faiss_file import FaissFileRetriever
from raytrec.retrievers.limits import beam, faiss_int
from raytrec.retrievers.threads import check_threads, use_threads


class FaissHnswRetriever(FaissFileRetriever):
    """Hierarchical navigable small-world graph (``IndexHNSWFlat``, Malkov & Yashunin 2018).

    The graph is built in L2: ``l2`` as it is, ``cosine`` on normalised vectors (L2 ranks
    unit vectors as cosine does), ``dot`` through the MIPS transform (items
    ``[x; sqrt(M² - |x|²)]``, queries ``[q; 0]``; ``raytrec.distance.transforms``), which
    graphs search far better than raw inner products. The L2 distances found are turned back
    into the model's scores exactly (``q·x = (|q|² + |x'|² - d²) / 2``).

    Args:
        m: neighbours per node (FAISS ``M``): more is better recall, more memory and build time.
        ef_construction: beam width while building.
        ef_search: beam width while searching (at least the k searched); the main knob of
            recall against speed.
        threads: FAISS OpenMP threads; 0 keeps FAISS's default.
    """

    STATE = ("norm",)

    def __init__(self, m: int = 32, ef_construction: int = 200, ef_search: int = 128,
                 threads: int = 0) -> None:
        if not 2 <= m <= 256:
            raise ArgumentError("m", f"must be in [2, 256], got {m}")
        self.m = m
        self.ef_construction = faiss_int("ef_construction", ef_construction)
        self.ef_search = faiss_int("ef_search", ef_search)
        self.threads = check_threads(threads)

    def check(self, num_items: int, dim: int, k: int) -> None:
        if self.ef_search < k:
            raise ArgumentError(
                "ef_search",
                f"ef_search={self.ef_search} is smaller than the k searched ({k}, the largest "
                f"eval.ks): the beam holds fewer candidates than the list; use ef_search >= {k}")

    def _build(self, items: np.ndarray) -> None:
        use_threads(self.threads)
        self.norm = 1.0 if self._native or self.distance.unit else \
            largest_norm(self.distance.mips_items(items))
        indexed = self._indexed(items)
        self.index = faiss.IndexHNSWFlat(indexed.shape[1], self.m)
        self.index.hnsw.efConstruction = beam(self.ef_construction, 1, len(items))
        self.index.add(indexed)

    def _indexed(self, items: np.ndarray) -> np.ndarray:
        """The vectors the graph holds; keeps their squared norms to convert distances."""
        if self._native:
            items = self.distance.indexed(items)
        elif self.distance.unit:  # unit rows: L2 ranks them as inner product does
            items = self.distance.mips_items(items)
        else:
            items = dot_as_l2(self.distance.mips_items(items), self.norm)
        self.indexed_sq = (items.astype(np.float64) ** 2).sum(1)
        return items

    def _loaded(self, items: np.ndarray) -> None:
        self._indexed(items)

    @property
    def _native(self) -> bool:
        """Whether the distance is L2 itself, searched without a transform."""
        return self.distance.faiss_metric == faiss.METRIC_L2

    def transform(self) -> str:
        if self._native:
            return "none: L2 index"
        if self.distance.unit:
            return "cosine: items and queries normalised to unit length; L2 index"
        return (f"MIPS: items [x; sqrt(M² - |x|²)] with M={self.norm!r}, queries [q; 0]; "
                "L2 index, q·x = (|q|² + M² - d²) / 2")

    def _queries(self, queries: np.ndarray) -> np.ndarray:
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if self._native:
            return self.distance.indexed(q)
        q = self.distance.mips_queries(q)
        return q if self.distance.unit else zero_column(q)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self._search(queries, k, max(self.ef_search, k))

    def search_wider(self, queries: np.ndarray, k: int,
                     attempt: int) -> tuple[np.ndarray, np.ndarray]:
        return self._search(queries, k, max(self.ef_search, k) * 2 ** attempt)

    def _search(self, queries: np.ndarray, k: int, ef: int) -> tuple[np.ndarray, np.ndarray]:
        use_threads(self.threads)
        params = faiss.SearchParametersHNSW(efSearch=beam(ef, k, self.num_items))
        q = self._queries(queries)
        d2, ids = self.index.search(q, int(k), params=params)
        if self._native:
            scores = self.distance.from_faiss(d2)
        else:
            scores = self.distance.from_inner(
                inner_from_l2(d2, (q.astype(np.float64) ** 2).sum(1),
                              self.indexed_sq[np.maximum(ids, 0)]), queries)
        return np.where(ids >= 0, scores, -np.inf).astype(np.float32), ids
