"""Exact search with FAISS flat indexes."""

from __future__ import annotations

import faiss
import numpy as np

from raytrec.retrievers.faiss_file import FaissFileRetriever
from raytrec.retrievers.threads import check_threads, use_threads


class FaissFlatRetriever(FaissFileRetriever):
    """Brute-force exact top-k: ``IndexFlatIP`` for dot/cosine, ``IndexFlatL2`` for l2.

    Args:
        threads: FAISS OpenMP threads; 0 keeps FAISS's default.
    """

    exact = True

    def __init__(self, threads: int = 0) -> None:
        self.threads = check_threads(threads)

    def _build(self, items: np.ndarray) -> None:
        use_threads(self.threads)
        self.index = faiss.IndexFlatL2(items.shape[1]) \
            if self.distance.faiss_metric == faiss.METRIC_L2 else faiss.IndexFlatIP(items.shape[1])
        self.index.add(self._indexed(items))
        if not self.distance.unit:  # the index holds the vectors as given: keep one copy
            self.items = faiss.rev_swig_ptr(self.index.get_xb(), items.size).reshape(items.shape)

    def _indexed(self, x: np.ndarray) -> np.ndarray:
        """``Distance.indexed``, with FAISS's own normalisation (unit rows for cosine)."""
        if not self.distance.unit:
            return x
        x = x.copy()
        faiss.normalize_L2(x)
        return x

    def transform(self) -> str:
        if self.distance.unit:
            return "cosine: items and queries normalised to unit length; inner-product index"
        l2 = self.distance.faiss_metric == faiss.METRIC_L2
        return f"none: {'L2' if l2 else 'inner-product'} index"

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        q = self._indexed(np.ascontiguousarray(queries, dtype=np.float32))
        scores, ids = self.index.search(q, int(k))
        return self.distance.from_faiss(scores), ids
