"""A retriever: exact top-k with NumPy, in chunks of queries."""

from __future__ import annotations

import numpy as np

from raytrec.api import ArgumentError, Retriever


class NumpyExactRetriever(Retriever):
    """Brute-force exact search; scores are higher-is-better (``-d²`` for l2).

    ``self.distance`` (a ``raytrec.distance.Distance``) does the scoring, so one index
    serves every distance; an index with a metric of its own asks it for ``faiss_metric``
    and the vectors to hold (``indexed``, or ``mips_items`` for inner products).

    Args:
        chunk: queries scored at once.
    """

    def __init__(self, chunk: int = 1024) -> None:
        if chunk < 1:
            raise ArgumentError("chunk", f"must be >= 1, got {chunk}")
        self.chunk = chunk

    def _build(self, items: np.ndarray) -> None:
        self.scores = self.distance.item_scorer(items)  # (B, D) queries -> (B, I) scores

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(int(k), len(self.items))
        scores, ids = [], []
        for start in range(0, len(queries), self.chunk):
            s = self.scores(queries[start:start + self.chunk])
            top = np.argpartition(-s, k - 1, axis=1)[:, :k]
            order = np.argsort(-np.take_along_axis(s, top, axis=1), axis=1, kind="stable")
            top = np.take_along_axis(top, order, axis=1)
            ids.append(top)
            scores.append(np.take_along_axis(s, top, axis=1))
        return np.concatenate(scores).astype(np.float32), np.concatenate(ids).astype(np.int64)
