"""Losses: scores of positives and negatives -> one scalar, plus named parts for logging."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

import torch
from torch import nn

from raytrec.data.base import DataInfo
from raytrec.errors import ArgumentError


@dataclass
class Selection:
    """The candidates a loss's ``select`` keeps: ``index (B, K)`` into the candidate axis.

    A loss that needs more from the full candidate set than the kept scores (CML's violator
    counts) subclasses this with named fields; the trainer hands it back as
    ``LossInput.selection``.
    """

    index: torch.Tensor


@dataclass
class LossInput:
    """One batch as a loss sees it. The first five are always there; the rest are None unless
    the sampler, the mapper or the loss's own ``select`` provided them.

    Attributes:
        pos: ``(B,)`` scores of the positive pairs (for ``l2`` mappers, ``-d²``).
        neg: ``(B, N)`` scores of the negatives (shared negatives already expanded).
        log_q: ``(B, N)`` log-probability the sampler drew each negative with.
        query: ``(B, D)`` query vectors (regularisers use them).
        item: ``(B, D)`` positive item vectors.
        mask: ``(B, N)`` bool, True = a valid negative, False = ignore it (an in-batch
            "negative" that is the row's own positive item). None: every negative counts.
        rating: ``(B,)`` explicit ratings, when the loss sets ``uses_ratings``.
        pos_log_q: ``(B,)`` log-probability of each row's positive as a negative
            (``Negatives.pos_log_q``; in-batch and mixed samplers).
        candidate_scores: ``(B, U)`` scores of all U candidates a sampler chose the N
            negatives from (``Negatives.candidate_scores``; the hard sampler).
        item_features: ``(B, D)`` the positive items' feature projections, from a mapper
            that lists ``"item_features"`` in ``provides`` (when the loss ``requires`` it).
        selection: what this loss's own ``select`` returned, when the trainer scored the
            candidates without gradient and kept only the selected ones (``neg`` then holds
            those); a loss may return a subclass of ``Selection`` carrying what it needs.
    """

    pos: torch.Tensor
    neg: torch.Tensor
    log_q: torch.Tensor
    query: torch.Tensor
    item: torch.Tensor
    _: KW_ONLY
    mask: torch.Tensor | None = None
    rating: torch.Tensor | None = None
    pos_log_q: torch.Tensor | None = None
    candidate_scores: torch.Tensor | None = None
    item_features: torch.Tensor | None = None
    selection: Selection | None = None

    def neg_mean(self, values: torch.Tensor) -> torch.Tensor:
        """``(B,)`` mean of ``values (B, N)`` over each row's valid negatives (0 if none)."""
        if self.mask is None:
            return values.mean(1)
        m = self.mask.to(values.dtype)
        return (values * m).sum(1) / m.sum(1).clamp_min(1.0)

    def masked_scores(self, scores: torch.Tensor | None = None) -> torch.Tensor:
        """Negative scores with ignored entries at -inf (for max and softmax)."""
        scores = self.neg if scores is None else scores
        return scores if self.mask is None else scores.masked_fill(~self.mask, float("-inf"))

    def neg_softmax(self) -> torch.Tensor:
        """``(B, N)`` softmax of the negative scores over each row's valid negatives."""
        weights = torch.softmax(self.masked_scores(), dim=1)
        return weights if self.mask is None else torch.nan_to_num(weights, nan=0.0)


@dataclass
class LossOutput:
    """``loss`` is what is minimised; ``parts`` are its named terms, detached, for logging.

    Parts stay tensors so that logging them does not force a device sync on every step. A
    part may not be named ``loss`` (the total is logged under that name), nor
    ``mapper_penalty`` (``with_penalty`` adds that one).
    """

    loss: torch.Tensor
    parts: dict[str, torch.Tensor] = field(default_factory=dict)

    def with_penalty(self, penalty: torch.Tensor | None) -> LossOutput:
        """The loss plus the mapper's penalty (``Mapper.penalty``), logged as
        ``mapper_penalty``; itself when there is none."""
        if penalty is None:
            return self
        if PENALTY in self.parts:
            raise ValueError(f"the loss returned a part named {PENALTY!r}, the name of the "
                             "mapper's penalty; rename that part")
        return LossOutput(self.loss + penalty, {**self.parts, PENALTY: penalty.detach()})

    def logged(self) -> dict[str, torch.Tensor]:
        """The total (``loss``) and every part, detached, by name."""
        if TOTAL in self.parts:
            raise ValueError(f"the loss returned a part named {TOTAL!r}, the name of the total "
                             "it is logged under; rename that part")
        return {TOTAL: self.loss.detach(), **self.parts}


TOTAL, PENALTY = "loss", "mapper_penalty"  # the names LossOutput.logged adds to the parts


class Loss(nn.Module, ABC):
    """Base class of losses: checks shapes so that a subclass writes ``compute`` only.

    Writing a loss:

    - Options go to ``__init__`` after ``super().__init__()`` (see the rules for every
      component in ``raytrec.hookspecs``); a learnable parameter (a temperature) is an
      ``nn.Parameter`` there, trained without weight decay. ``setup(info)`` (call
      ``super().setup(info)``) gives ``self.num_items``.
    - ``compute(batch)`` gets a ``LossInput`` and returns ``LossOutput(loss, parts)``: a scalar
      to minimise and named, detached scalar terms for logging.
    - Scores are "higher is closer" in every distance: for ``l2`` they are ``-d²``, so a
      hinge is ``margin - pos + neg``, never ``margin + d_pos - d_neg`` on the raw scores.
    - ``batch.neg`` is always ``(B, N)``, shared negatives included. Respect ``batch.mask``
      (False = not a negative of that row; under in-batch sampling the row's own positive):
      use ``batch.neg_mean``, ``batch.masked_scores`` or ``batch.neg_softmax``.
    - Declare what the loss needs: ``distances`` (e.g. ``("l2",)``), ``requires`` (optional
      ``MapperOutput`` fields, e.g. ``("item_features",)``), ``uses_ratings``, ``uses_log_q``
      (logQ correction), ``uses_negatives``. The config is refused when they cannot be met.
    - A loss whose gradient flows through a few of the candidates only (the hardest one)
      also implements ``select``: the trainer then scores all candidates without gradient and
      backpropagates through the selected ones only — the same gradient, less work. Return a
      ``Selection`` subclass to pass values computed over all candidates (CML's violator
      counts) to ``compute`` as ``batch.selection``.
    - Check with ``raytrec.testing.check_loss(MyLoss, margin=0.3)``.
    """

    # The mapper distances this loss is defined for; None means any.
    distances: tuple[str, ...] | None = None
    # Extras the mapper's forward must provide (see Mapper.provides).
    requires: tuple[str, ...] = ()
    # Whether batches should carry the interactions' ratings.
    uses_ratings: bool = False
    # Whether the loss looks at the negatives at all (MSE without negative weight does not).
    uses_negatives: bool = True
    # Whether the loss reads ``log_q`` as the probability a negative was drawn with (logQ
    # correction); such a loss cannot train on a sampler whose ``log_q_known`` is False.
    uses_log_q: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "metrics" in vars(cls) and "distances" not in vars(cls):  # the attribute's old name
            cls.distances = vars(cls)["metrics"]

    def setup(self, info: DataInfo) -> None:
        """Called once per worker with training-data statistics."""
        self.num_items = info.num_items

    def select(self, pos: torch.Tensor, neg: torch.Tensor,
               mask: torch.Tensor | None = None) -> Selection | None:
        """Given ``pos (B,)`` and ``neg (B, N)`` scores (no grad), the candidates to keep."""
        return None

    @abstractmethod
    def compute(self, batch: LossInput) -> LossOutput:
        """The loss of a shape-checked batch."""

    def forward(self, batch: LossInput) -> LossOutput:
        b = batch.pos.shape[0]
        if batch.pos.dim() != 1:
            raise ValueError(f"pos scores must be (B,), got {tuple(batch.pos.shape)}")
        if batch.neg.dim() != 2 or batch.neg.shape[0] != b:
            raise ValueError(f"neg scores must be (B={b}, N), got {tuple(batch.neg.shape)}")
        if batch.mask is not None and batch.mask.shape != batch.neg.shape:
            raise ValueError(f"mask must match neg {tuple(batch.neg.shape)}")
        if batch.log_q.shape != batch.neg.shape:
            raise ValueError(
                f"log_q must match neg {tuple(batch.neg.shape)}, got {tuple(batch.log_q.shape)}"
            )
        out = self.compute(batch)
        if out.loss.dim() != 0:
            raise ValueError(f"{type(self).__name__}.compute must return a scalar loss")
        return out


def check_non_negative(name: str, value: float) -> float:
    if value < 0:
        raise ArgumentError(name, f"must be >= 0, got {value}")
    return float(value)
