"""``Distance``: how a query vector and an item vector score, for training and for indexes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

# Up to this many candidates per query, an elementwise product is faster than a batched matmul.
_FEW = 8


class Distance(ABC):
    """The geometry of a mapper's space: one object per distance (``dot``, ``cosine``,
    ``l2``), found by name with ``raytrec.distance.distance_named``. Mappers hold one
    (``mapper.distance``), the training step scores with it, and retrievers and serving ask
    it rather than compare names.

    Contract, the same in every method: a score is higher-is-closer (``-d²`` for ``l2``).

    - Training (torch, differentiable): ``pair_scores(q (B, D), v (B, D)) -> (B,)`` and
      ``candidate_scores(q (B, D), v (B, N, D) or (N, D)) -> (B, N)``, which agree with each
      other; ``tensor_scorer(items (I, D))`` binds every item once and scores
      ``queries (B, D) -> (B, I)`` (an exact index in torch); ``from_dots`` finishes scores
      from inner products a mapper gathered itself (with the candidates' squared norms
      where ``needs_norms``).
    - Indexes (NumPy): ``item_scorer(items (I, D))`` the same over float32 arrays (the exact
      answer an approximate index falls back to); ``picked_scores(q (B, D), v (B, K, D))``
      the scores of items already picked (serving, in float64).
    - FAISS: ``faiss_metric`` is the index metric that serves the distance natively,
      ``indexed(x)`` the rows such an index holds (unit rows for ``cosine``; queries
      likewise) and ``from_faiss(found)`` turns what it returns back into scores.
    - MIPS (an index that only does inner products, angles or L2): ``mips_items(items)`` and
      ``mips_queries(q)`` are vectors whose inner product ranks items as the distance does,
      and ``from_inner(dots, q)`` turns those inner products back into scores. ``unit`` says
      the MIPS vectors are unit rows already (``cosine``), so an index in L2 or angles
      ranks them as inner product does without a further reduction
      (``raytrec.distance.transforms``).

    A distance compares equal to its name (``mapper.distance == "l2"``) and prints as it, so
    code and configs that name distances keep working; write files with ``.name``.
    """

    name: str
    unit = False
    needs_norms = True

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Distance):
            return other.name == self.name
        return isinstance(other, str) and other == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<distance {self.name}>"

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        from raytrec.distance import distance_named

        return distance_named, (self.name,)

    @abstractmethod
    def pair_scores(self, q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Scores of matching rows: ``q (B, D)``, ``v (B, D)`` -> ``(B,)``."""

    @abstractmethod
    def candidate_scores(self, q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """``q (B, D)`` against ``v (B, N, D)`` (per-query candidates) or ``v (N, D)``
        (shared) -> ``(B, N)``."""

    @abstractmethod
    def from_dots(self, dots: torch.Tensor, q: torch.Tensor,
                  item_sq: torch.Tensor | None) -> torch.Tensor:
        """Scores ``(B, N)`` from ``dots (B, N)`` of ``q (B, D)`` with candidates whose
        squared norms are ``item_sq`` (``(B, N)`` or ``(N,)``; None unless ``needs_norms``)."""

    @abstractmethod
    def tensor_scorer(self, items: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """``items (I, D)`` prepared once -> ``queries (B, D) -> (B, I)`` scores."""

    @abstractmethod
    def item_scorer(self, items: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """``items (I, D)`` float32 prepared once -> ``queries (B, D) -> (B, I)`` scores."""

    def all_scores(self, queries: np.ndarray, items: np.ndarray) -> np.ndarray:
        """``(B, I)`` scores of every item (``item_scorer`` used once)."""
        return self.item_scorer(items)(queries)

    @abstractmethod
    def picked_scores(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        """``q (B, D)`` against its own items ``v (B, K, D)`` -> ``(B, K)``."""

    @property
    def faiss_metric(self) -> int:
        """``faiss.METRIC_INNER_PRODUCT``, or ``faiss.METRIC_L2`` for ``l2``."""
        import faiss

        return int(faiss.METRIC_INNER_PRODUCT)

    def indexed(self, x: np.ndarray) -> np.ndarray:
        """Rows ``(n, D)`` as an index of ``faiss_metric`` holds them (and is queried)."""
        return x

    def from_faiss(self, found: np.ndarray) -> np.ndarray:
        """Scores from what an index of ``faiss_metric`` returns over ``indexed`` rows."""
        return found

    def mips_items(self, items: np.ndarray) -> np.ndarray:
        """Items ``(I, D')`` whose inner product with ``mips_queries`` ranks as the distance."""
        return items

    def mips_queries(self, queries: np.ndarray) -> np.ndarray:
        """Queries ``(B, D')`` for ``mips_items`` (in the dtype given)."""
        return queries

    def from_inner(self, dots: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """Scores ``(B, K)`` from ``mips_queries(queries) · mips_items`` ``dots (B, K)``."""
        return dots


def dots(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``q (B, D)`` · ``v (B, N, D)`` or ``(N, D)`` -> ``(B, N)``, the fastest way for the shape."""
    if v.dim() == 2:
        return q @ v.T
    if v.shape[1] <= _FEW:
        return (v * q.unsqueeze(1)).sum(-1)  # forward and backward far cheaper than bmm here
    return torch.bmm(v, q.unsqueeze(-1)).squeeze(-1)
