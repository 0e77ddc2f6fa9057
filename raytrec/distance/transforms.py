"""Reductions between search problems, so that an index built for one metric serves another.

- ``l2_as_dot``: ``-|q - x|²`` ranks items as ``[q; 1]·[2x; -|x|²]`` does (``|q|²`` is the
  same for every item of a query), so an l2 model can be searched by inner product.
- ``dot_as_l2`` (the MIPS transform of Bachrach et al. 2014): items ``[x; sqrt(M² - |x|²)]``
  with ``M`` the largest item norm, queries ``[q; 0]``; then
  ``|q' - x'|² = |q|² + M² - 2 q·x``, so the nearest items in L2 are the largest inner
  products, for graph and clustering indexes that only do L2.
- ``dot_as_angle`` (simple-LSH, Neyshabur & Srebro 2015): items ``[x/M; sqrt(1 - |x/M|²)]``
  and queries ``[q/|q|; 0]`` are unit vectors whose cosine is ``q·x / (M|q|)``: the same
  order as the inner product, for sign-random-projection hashing, which only sees angles.

Zero vectors: a query of norm 0 scores every item 0 under ``dot`` and has no direction, so
``dot_as_angle`` leaves it the zero vector (every hash bit then falls on one side, its
results are arbitrary, as its scores are); a catalogue whose items are all zero gets
``M = 1`` instead of a division by zero. Cosine needs no transform: normalised vectors (zero
vectors stay zero) are searched by inner product, or by L2, which ranks them alike.
"""

from __future__ import annotations

import numpy as np


def normalised(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit norm; zero rows stay zero."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def largest_norm(items: np.ndarray) -> float:
    """``M``: the largest item norm, 1 when every item is zero."""
    m = float(np.sqrt((items.astype(np.float64) ** 2).sum(1).max())) if len(items) else 0.0
    return m if m > 0 else 1.0


def l2_as_dot(items: np.ndarray) -> np.ndarray:
    """Items ``[2x; -|x|²]``; queries get ``l2_as_dot_queries``."""
    sq = (items.astype(np.float64) ** 2).sum(1, keepdims=True)
    return np.hstack([2 * items, -sq]).astype(np.float32)


def l2_as_dot_queries(queries: np.ndarray) -> np.ndarray:
    """Queries ``[q; 1]``."""
    return np.hstack([queries, np.ones((len(queries), 1))]).astype(np.float32)


def dot_as_l2(items: np.ndarray, m: float) -> np.ndarray:
    """Items ``[x; sqrt(M² - |x|²)]``; queries get ``zero_column``."""
    sq = (items.astype(np.float64) ** 2).sum(1, keepdims=True)
    return np.hstack([items, np.sqrt(np.maximum(m * m - sq, 0.0))]).astype(np.float32)


def dot_as_angle(items: np.ndarray, m: float) -> np.ndarray:
    """Items ``[x/M; sqrt(1 - |x/M|²)]``: unit vectors; queries get
    ``zero_column(normalised(q))``."""
    return dot_as_l2(items / m, 1.0)


def zero_column(queries: np.ndarray) -> np.ndarray:
    """Queries ``[q; 0]``."""
    return np.hstack([queries, np.zeros((len(queries), 1))]).astype(np.float32)


def inner_from_l2(d2: np.ndarray, query_sq: np.ndarray, item_sq: np.ndarray) -> np.ndarray:
    """Inner products from squared L2 distances ``d2 (B, K)``:
    ``q·x = (|q|² + |x|² - |q - x|²) / 2``, with ``query_sq (B,)`` and ``item_sq (B, K)``."""
    return (query_sq[:, None] + item_sq - d2) / 2
