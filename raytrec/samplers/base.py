"""Negative samplers: for a batch of positive pairs, which items to push away."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import torch

from raytrec.data.base import DataInfo

# Extras key: ``(B, U)`` scores of all the candidates a sampler scored, of which it kept some.
CANDIDATE_SCORES = "candidate_scores"


@dataclass
class Negatives:
    """Sampled negatives and the log-probability of drawing each.

    ``ids`` is ``(B, N)`` (per positive) or ``(N,)`` (one set shared by the whole batch);
    ``log_q`` has the same shape. Losses that correct for sampling bias use ``log_q``.

    When per-positive negatives are picked from a pool shared by the batch, ``pool (P,)`` holds
    its item ids and ``ids == pool[pool_index]``: scoring the pool is one matrix product.
    """

    ids: torch.Tensor
    log_q: torch.Tensor
    pool: torch.Tensor | None = None
    pool_index: torch.Tensor | None = None
    # (B, N) bool, False for entries that are not negatives of that row (e.g. in-batch
    # negatives equal to the row's own positive item).
    mask: torch.Tensor | None = None
    # Values a loss may use, e.g. a hard-negative sampler's violator counts.
    extras: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def shared(self) -> bool:
        return self.ids.dim() == 1


class Sampler(ABC):
    """Base class of negative samplers.

    Subclasses take their options in ``__init__`` (validated there; it runs before any data is
    read), learn what they need from the training data in ``setup`` and implement ``sample``.
    """

    num_negatives: int
    # Whether ``log_q`` is the probability each negative was drawn with. A sampler that picks
    # its negatives by score (``hard``) reports the proposal's, which a logQ correction must
    # not use.
    log_q_known: bool = True

    def setup(self, info: DataInfo) -> None:
        """Called once per worker with training-data statistics, before the first batch."""
        self.num_items = info.num_items
        if getattr(self, "num_negatives", 0) > info.num_items:
            raise ValueError(
                f"num_negatives={self.num_negatives} is larger than the catalogue "
                f"({info.num_items} items); lower sampler.num_negatives"
            )

    def attach(self, mapper: torch.nn.Module) -> None:
        """Called with the (unwrapped) mapper before training, for samplers that score
        candidates with the current model."""
        del mapper  # most samplers draw without looking at the model

    @abstractmethod
    def sample(
        self, users: torch.Tensor, items: torch.Tensor, generator: torch.Generator
    ) -> Negatives:
        """Negatives for positives ``(users, items)``, both ``(B,)`` int64."""


def check_num_negatives(n: int, name: str = "num_negatives") -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return n
