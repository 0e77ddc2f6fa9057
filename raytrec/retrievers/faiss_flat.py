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
        if self.distance == "cosine":
            items = items.copy()
            faiss.normalize_L2(items)
        self.index = faiss.IndexFlatL2(items.shape[1]) if self.distance == "l2" else \
            faiss.IndexFlatIP(items.shape[1])
        self.index.add(items)

    def transform(self) -> str:
        if self.distance == "cosine":
            return "cosine: items and queries normalised to unit length; inner-product index"
        return f"none: {'L2' if self.distance == 'l2' else 'inner-product'} index"

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if self.distance == "cosine":
            q = q.copy()
            faiss.normalize_L2(q)
        scores, ids = self.index.search(q, int(k))
        return (-scores if self.distance == "l2" else scores), ids
