"""Cosine similarity: inner product of unit vectors (zero vectors stay zero)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from raytrec.distance.base import Distance, dots
from raytrec.distance.transforms import normalised


class CosineDistance(Distance):
    """Score ``q·x / (|q| |x|)``; every index searches normalised rows by inner product."""

    name = "cosine"
    unit = True

    def pair_scores(self, q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.cosine_similarity(q, v, dim=-1)

    def candidate_scores(self, q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return dots(F.normalize(q, dim=-1), F.normalize(v, dim=-1))

    def from_dots(self, dots: torch.Tensor, q: torch.Tensor,
                  item_sq: torch.Tensor | None) -> torch.Tensor:
        assert item_sq is not None
        return dots / (q.norm(dim=-1, keepdim=True) * item_sq.sqrt()).clamp_min(1e-12)

    def tensor_scorer(self, items: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        unit = F.normalize(items, dim=1)
        return lambda q: F.normalize(q, dim=1) @ unit.T

    def item_scorer(self, items: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        unit = normalised(items)
        return lambda q: normalised(q) @ unit.T

    def picked_scores(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        v = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
        return np.einsum("bkd,bd->bk", v, q)

    def indexed(self, x: np.ndarray) -> np.ndarray:
        return normalised(x)

    def mips_items(self, items: np.ndarray) -> np.ndarray:
        return normalised(items)

    def mips_queries(self, queries: np.ndarray) -> np.ndarray:
        return normalised(queries)
