"""A retriever: exact top-k with NumPy, in chunks of queries."""

from __future__ import annotations

import numpy as np

from raytrec.retrievers import Retriever


class NumpyExactRetriever(Retriever):
    """Brute-force exact search; scores are higher-is-better (``-d²`` for l2).

    Args:
        chunk: queries scored at once.
    """

    def __init__(self, chunk: int = 1024) -> None:
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        self.chunk = chunk

    def _build(self, items: np.ndarray) -> None:
        if self.distance == "cosine":
            items = items / np.maximum(np.linalg.norm(items, axis=1, keepdims=True), 1e-12)
        self.items = items
        self.norms = (items ** 2).sum(1)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(int(k), len(self.items))
        scores, ids = [], []
        for start in range(0, len(queries), self.chunk):
            q = queries[start:start + self.chunk]
            if self.distance == "cosine":
                q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
            s = q @ self.items.T
            if self.distance == "l2":
                s = 2 * s - (q ** 2).sum(1, keepdims=True) - self.norms
            top = np.argpartition(-s, k - 1, axis=1)[:, :k]
            order = np.argsort(-np.take_along_axis(s, top, axis=1), axis=1, kind="stable")
            top = np.take_along_axis(top, order, axis=1)
            ids.append(top)
            scores.append(np.take_along_axis(s, top, axis=1))
        return np.concatenate(scores).astype(np.float32), np.concatenate(ids).astype(np.int64)
