"""Scores in a mapper's distance: higher is closer. For ``l2`` the score is ``-d²``."""

from __future__ import annotations

from typing import Literal

import torch

Distance = Literal["dot", "cosine", "l2"]
DISTANCES: tuple[str, ...] = ("dot", "cosine", "l2")
# Up to this many candidates per query, an elementwise product is faster than a batched matmul.
_FEW = 8


def pair_scores(distance: str, q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Scores of matching rows: ``q (B, D)``, ``v (B, D)`` -> ``(B,)``."""
    if distance == "l2":
        return -(q - v).pow(2).sum(-1)
    if distance == "cosine":
        return torch.nn.functional.cosine_similarity(q, v, dim=-1)
    return (q * v).sum(-1)


def candidate_scores(distance: str, q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Scores of each query against candidates.

    ``q (B, D)`` with ``v (B, N, D)`` (per-query candidates) or ``v (N, D)`` (shared) -> ``(B, N)``.
    """
    if distance == "cosine":
        q = torch.nn.functional.normalize(q, dim=-1)
        v = torch.nn.functional.normalize(v, dim=-1)
    if v.dim() == 2:
        dots = q @ v.T
    elif v.shape[1] <= _FEW:
        dots = (v * q.unsqueeze(1)).sum(-1)  # forward and backward far cheaper than bmm here
    else:
        dots = torch.bmm(v, q.unsqueeze(-1)).squeeze(-1)
    if distance != "l2":
        return dots
    # -|q - v|² expanded so no (B, N, D) difference tensor is formed.
    return 2 * dots - q.pow(2).sum(-1, keepdim=True) - v.pow(2).sum(-1)
