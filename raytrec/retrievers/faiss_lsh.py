"""Approximate search by sign-random-projection hashing (FAISS ``IndexLSH``)."""

from __future__ import annotations

import faiss
import numpy as np

from raytrec.distance.transforms import (
    dot_as_angle,
    inner_from_l2,
    largest_norm,
    normalised,
    zero_column,
)
from raytrec.errors import ArgumentError
from raytrec.memory import available_memory, gigabytes
from raytrec.retrievers.faiss_file import FaissFileRetriever
from raytrec.retrievers.limits import faiss_int, k_factor
from raytrec.retrievers.threads import check_threads, use_threads


class FaissLshRetriever(FaissFileRetriever):
    """Random hyperplane LSH (Charikar 2002): each vector becomes ``nbits`` signs of random
    projections, whose Hamming distance estimates the angle between vectors; the
    ``rerank × k`` nearest codes are re-scored exactly (``IndexRefineFlat``) and the best
    ``k`` kept, their scores turned back into the model's distance.

    Hyperplanes see only angles, so every distance is reduced to one: ``cosine`` as it is;
    ``dot`` by simple-LSH (items ``[x/M; sqrt(1 - |x/M|²)]``, queries ``[q/|q|; 0]``, whose
    cosine orders items as the inner product does); ``l2`` first to an inner product
    (``[q; 1]·[2x; -|x|²]``), then by simple-LSH (``raytrec.distance.transforms``).
    Both reductions keep the order exactly, but simple-LSH scales every item by the largest
    norm: where norms differ by orders of magnitude (``-|x|²`` for ``l2`` squares them), the
    appended coordinate dominates most codes and hashing loses recall. Inside the unit ball
    (CML) it works well; for such catalogues prefer ``faiss-ivf`` or ``faiss-hnsw``.

    Args:
        nbits: bits per code: more is closer to exact, slower and larger.
        rerank: candidates re-scored exactly per result (``rerank × k``).
        threads: FAISS OpenMP threads; 0 keeps FAISS's default.
    """

    STATE = ("norm",)

    def __init__(self, nbits: int = 256, rerank: int = 10, threads: int = 0) -> None:
        self.nbits = faiss_int("nbits", nbits)
        self.rerank = faiss_int("rerank", rerank)
        self.threads = check_threads(threads)

    def check(self, num_items: int, dim: int, k: int) -> None:
        super().check(num_items, dim, k)
        per_bit = (dim + 2) * 4 + num_items / 8  # a row of the projection, a bit of each code
        free = available_memory()
        if free is not None and self.nbits * per_bit > free // 2:
            raise ArgumentError(
                "nbits",
                f"nbits={self.nbits} needs about {gigabytes(int(self.nbits * per_bit))} for "
                f"its projections and codes, more than half the {gigabytes(free)} free; use "
                f"nbits <= {int(free // 2 / per_bit)} (256 is usual)")

    def _build(self, items: np.ndarray) -> None:
        use_threads(self.threads)
        self.norm = 1.0 if self.distance.unit else largest_norm(self.distance.mips_items(items))
        coded = self._coded(items)
        self.lsh = faiss.IndexLSH(coded.shape[1], self.nbits, True, False)
        self.index = faiss.IndexRefineFlat(self.lsh)
        self.index.train(coded)  # draws the random rotation
        self.index.add(coded)

    def _coded(self, items: np.ndarray) -> np.ndarray:
        """The unit vectors hashed (and re-ranked); keeps their squared norms."""
        coded = self.distance.mips_items(items)
        if not self.distance.unit:
            coded = dot_as_angle(coded, self.norm)
        self.coded_sq = (coded.astype(np.float64) ** 2).sum(1)
        return coded

    def _loaded(self, items: np.ndarray) -> None:
        self._coded(items)

    def transform(self) -> str:
        if self.distance.unit:
            reduce = "cosine: items and queries normalised to unit length"
        elif self.distance.faiss_metric == faiss.METRIC_L2:
            reduce = "l2 as an inner product ([q; 1]·[2x; -|x|²]), then simple-LSH"
        else:
            reduce = "simple-LSH: items [x/M; sqrt(1 - |x/M|²)], queries [q/|q|; 0]"
        return (f"{reduce}, M={self.norm!r}; {self.nbits}-bit sign-projection "
                "codes, re-ranked exactly (IndexRefineFlat)")

    def _queries(self, queries: np.ndarray) -> np.ndarray:
        q = self.distance.mips_queries(np.ascontiguousarray(queries, dtype=np.float32))
        return q if self.distance.unit else zero_column(normalised(q))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self._search(queries, k, self.rerank)

    def search_wider(self, queries: np.ndarray, k: int,
                     attempt: int) -> tuple[np.ndarray, np.ndarray]:
        return self._search(queries, k, self.rerank * 2 ** attempt)

    def _search(self, queries: np.ndarray, k: int,
                rerank: int) -> tuple[np.ndarray, np.ndarray]:
        use_threads(self.threads)
        q = self._queries(queries)
        params = faiss.IndexRefineSearchParameters(k_factor=k_factor(rerank, k,
                                                                     self.num_items))
        d2, ids = self.index.search(q, int(k), params=params)
        cos = inner_from_l2(d2, (q.astype(np.float64) ** 2).sum(1),
                            self.coded_sq[np.maximum(ids, 0)])
        scores = cos if self.distance.unit else self._from_angle(cos, queries)
        return np.where(ids >= 0, scores, -np.inf).astype(np.float32), ids

    def _from_angle(self, cos: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """Back through simple-LSH (``q·x = cos · M · |q|``), and for ``l2`` through
        ``[q; 1]·[2x; -|x|²] - |q|² = -|q - x|²``."""
        q = queries.astype(np.float64)
        lifted = self.distance.mips_queries(q)
        return self.distance.from_inner(
            cos * self.norm * np.linalg.norm(lifted, axis=1, keepdims=True), q)
