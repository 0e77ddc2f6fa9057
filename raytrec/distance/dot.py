"""Inner product: MF, BPR, two-tower without normalisation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from raytrec.distance.base import Distance, dots


class DotDistance(Distance):
    """Score ``q·x``."""

    name = "dot"
    needs_norms = False

    def pair_scores(self, q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return (q * v).sum(-1)

    def candidate_scores(self, q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return dots(q, v)

    def from_dots(self, dots: torch.Tensor, q: torch.Tensor,
                  item_sq: torch.Tensor | None) -> torch.Tensor:
        return dots

    def tensor_scorer(self, items: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        return lambda q: q @ items.T

    def item_scorer(self, items: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        return lambda q: q @ items.T

    def picked_scores(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.einsum("bkd,bd->bk", v, q)
