"""Distances between query and item vectors: ``Distance`` objects (the contract is in
``raytrec.distance.base.Distance``), found by name. Scores are higher-is-closer; for ``l2``
the score is ``-d²``."""

from __future__ import annotations

import torch

from raytrec.distance.base import Distance
from raytrec.distance.cosine import CosineDistance
from raytrec.distance.dot import DotDistance
from raytrec.distance.l2 import L2Distance

DOT, COSINE, L2 = DotDistance(), CosineDistance(), L2Distance()
_BY_NAME: dict[str, Distance] = {d.name: d for d in (DOT, COSINE, L2)}
DISTANCES: tuple[str, ...] = tuple(_BY_NAME)

__all__ = ["COSINE", "DISTANCES", "DOT", "L2", "CosineDistance", "Distance", "DotDistance",
           "L2Distance", "as_distance", "candidate_scores", "distance_named", "pair_scores"]


def distance_named(name: str) -> Distance:
    """The distance called ``name``; ``ValueError`` naming the known ones otherwise."""
    found = _BY_NAME.get(name) if isinstance(name, str) else None
    if found is None:
        raise ValueError(f"unknown distance {name!r}; known distances: {', '.join(DISTANCES)}")
    return found


def as_distance(distance: Distance | str) -> Distance:
    """``distance`` itself, or the distance it names."""
    return distance if isinstance(distance, Distance) else distance_named(distance)


def pair_scores(distance: Distance | str, q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``as_distance(distance).pair_scores(q, v)``: ``(B, D)``, ``(B, D)`` -> ``(B,)``."""
    return as_distance(distance).pair_scores(q, v)


def candidate_scores(distance: Distance | str, q: torch.Tensor,
                     v: torch.Tensor) -> torch.Tensor:
    """``as_distance(distance).candidate_scores(q, v)``: ``q (B, D)`` with ``v (B, N, D)`` or
    ``(N, D)`` -> ``(B, N)``."""
    return as_distance(distance).candidate_scores(q, v)
