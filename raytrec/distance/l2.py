"""Squared Euclidean distance, scored ``-d²``: CML and its variants."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from raytrec.distance.base import Distance, dots
from raytrec.distance.transforms import l2_as_dot


class L2Distance(Distance):
    """Score ``-|q - x|²``, expanded as ``2 q·x - |q|² - |x|²`` wherever many items meet a
    query, so that no ``(B, N, D)`` difference tensor is formed. ``|q|²`` is the same for
    every item of a query, so ``[q; 1]·[2x; -|x|²]`` ranks items alike (the MIPS transform)."""

    name = "l2"

    def pair_scores(self, q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return -(q - v).pow(2).sum(-1)

    def candidate_scores(self, q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return 2 * dots(q, v) - q.pow(2).sum(-1, keepdim=True) - v.pow(2).sum(-1)

    def from_dots(self, dots: torch.Tensor, q: torch.Tensor,
                  item_sq: torch.Tensor | None) -> torch.Tensor:
        assert item_sq is not None
        return 2 * dots - q.pow(2).sum(-1, keepdim=True) - item_sq

    def tensor_scorer(self, items: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        sq = items.pow(2).sum(1)
        return lambda q: 2 * (q @ items.T) - sq - q.pow(2).sum(1, keepdim=True)

    def item_scorer(self, items: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        sq = (items ** 2).sum(1)
        return lambda q: 2 * (q @ items.T) - sq - (q ** 2).sum(1, keepdims=True)

    def picked_scores(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        return -((v - q[:, None, :]) ** 2).sum(-1)

    @property
    def faiss_metric(self) -> int:
        import faiss

        return int(faiss.METRIC_L2)

    def from_faiss(self, found: np.ndarray) -> np.ndarray:
        return -found

    def mips_items(self, items: np.ndarray) -> np.ndarray:
        return l2_as_dot(items)

    def mips_queries(self, queries: np.ndarray) -> np.ndarray:
        return np.hstack([queries, np.ones((len(queries), 1), queries.dtype)])

    def from_inner(self, dots: np.ndarray, queries: np.ndarray) -> np.ndarray:
        return dots - (queries ** 2).sum(1, keepdims=True)
