"""Approximate search in a FAISS inverted file, optionally product-quantised (FastScan)."""

from __future__ import annotations

import math

import faiss
import numpy as np

from raytrec.errors import ArgumentError
from raytrec.retrievers.faiss_file import FaissFileRetriever
from raytrec.retrievers.limits import faiss_int, k_factor
from raytrec.retrievers.threads import check_threads, use_threads


class FaissIvfRetriever(FaissFileRetriever):
    """Inverted file (``IndexIVFFlat``): items clustered into ``nlist`` k-means cells, a
    query searches the ``nprobe`` cells nearest to it. Inner product is native to it (on
    normalised vectors for ``cosine``), so no transform is needed; ``l2`` is searched in L2.

    With ``pq``, each item is stored as ``pq`` 4-bit product-quantiser codes of its residual
    to its cell's centre (``IndexIVFPQFastScan``: ``pq / 2`` bytes an item, scored with SIMD
    lookup tables), and the ``rerank × k`` best by those codes are re-scored exactly on the
    full vectors (``IndexRefineFlat``) and the best ``k`` kept. Scores are exact either way.

    Args:
        nlist: cells; by default ``4·sqrt(items)`` (the low end of FAISS's guideline of
            4–16·sqrt), at most the catalogue.
        nprobe: cells searched per query: the main knob of recall against speed.
        pq: sub-quantisers per item code (even, and dividing the vector width), or none.
        rerank: with ``pq``, candidates re-scored exactly per result (``rerank × k``).
        seed: of k-means.
        threads: FAISS OpenMP threads; 0 keeps FAISS's default.
    """

    def __init__(self, nlist: int | None = None, nprobe: int = 16, pq: int | None = None,
                 rerank: int = 10, seed: int = 0, threads: int = 0) -> None:
        if nlist is not None and nlist < 1:
            raise ArgumentError("nlist", f"must be >= 1, got {nlist}")
        if nprobe < 1:
            raise ArgumentError("nprobe", f"must be >= 1, got {nprobe}")
        if pq is not None and (pq < 2 or pq % 2):
            raise ArgumentError("pq",
                                f"must be an even number >= 2 (4-bit codes in pairs), got {pq}")
        faiss_int("rerank", rerank)
        self.nlist, self.nprobe, self.pq, self.rerank = nlist, nprobe, pq, rerank
        self.seed = seed
        self.threads = check_threads(threads)

    def cells(self, num_items: int) -> int:
        """``nlist``, or its default for ``num_items``."""
        if self.nlist is not None:
            return self.nlist
        return max(1, min(num_items, round(4 * math.sqrt(num_items))))

    def check(self, num_items: int, dim: int, k: int) -> None:
        if self.nlist is not None and self.nlist > num_items:
            raise ArgumentError("nlist",
                                f"nlist={self.nlist} is larger than the catalogue ({num_items} "
                                f"items): every cell needs an item; use nlist <= {num_items}")
        if self.nprobe > self.cells(num_items):
            raise ArgumentError("nprobe", f"nprobe={self.nprobe} is larger than nlist "
                                f"({self.cells(num_items)}); use nprobe <= nlist")
        if self.pq is not None and dim % self.pq:
            raise ArgumentError("pq",
                                f"pq={self.pq} does not divide the vector width ({dim}); use a "
                                f"divisor of {dim}")

    def min_build_items(self) -> int:
        return self.nlist or 1

    def _build(self, items: np.ndarray) -> None:
        use_threads(self.threads)
        metric = self.distance.faiss_metric
        items = self.distance.indexed(items)
        d, nlist = items.shape[1], self.cells(len(items))
        quantizer = faiss.IndexFlatL2(d) if metric == faiss.METRIC_L2 else faiss.IndexFlatIP(d)
        if self.pq is None:
            index = faiss.IndexIVFFlat(quantizer, d, nlist, metric)
        else:
            index = faiss.IndexIVFPQFastScan(quantizer, d, nlist, self.pq, 4, metric)
        index.cp.min_points_per_centroid = 1  # a small catalogue trains without a warning
        index.cp.seed = self.seed
        self.quantizer, self.ivf = quantizer, index  # an index does not own what it wraps
        self.index = index if self.pq is None else faiss.IndexRefineFlat(index)
        self.index.train(items)
        self.index.add(items)

    def _loaded(self, items: np.ndarray) -> None:
        self.ivf = faiss.extract_index_ivf(self.index)

    def transform(self) -> str:
        kind = "L2" if self.distance.faiss_metric == faiss.METRIC_L2 else "inner-product"
        codes = (f"; {self.pq} 4-bit PQ codes an item, re-ranked exactly on the full vectors "
                 "(IndexRefineFlat)") if self.pq is not None else ""
        norm = "cosine: items and queries normalised to unit length; " \
            if self.distance.unit else ""
        return f"{norm}{kind} IVF index{codes}"

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self._search(queries, k, self.nprobe)

    def search_wider(self, queries: np.ndarray, k: int,
                     attempt: int) -> tuple[np.ndarray, np.ndarray]:
        return self._search(queries, k, self.nprobe * 2 ** attempt)

    def _search(self, queries: np.ndarray, k: int,
                nprobe: int) -> tuple[np.ndarray, np.ndarray]:
        use_threads(self.threads)
        q = self.distance.indexed(np.ascontiguousarray(queries, dtype=np.float32))
        params = faiss.SearchParametersIVF(nprobe=int(min(nprobe, self.ivf.nlist)))
        if self.pq is not None:
            params = faiss.IndexRefineSearchParameters(k_factor=k_factor(self.rerank, k,
                                                                         self.num_items),
                                                       base_index_params=params)
        found, ids = self.index.search(q, int(k), params=params)
        scores = self.distance.from_faiss(found)
        return np.where(ids >= 0, scores, -np.inf).astype(np.float32), ids
