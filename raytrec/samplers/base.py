"""Negative samplers: for a batch of positive pairs, which items to push away."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import KW_ONLY, dataclass
from typing import Self

import torch

from raytrec.data.base import DataInfo
from raytrec.errors import ArgumentError

# Extras drawn with replacement past the catalogue: beyond this many, one step's
# (batch, batch + extras) scores outgrow any memory for no gain.
MAX_SHARED = 1 << 16


@dataclass
class Negatives:
    """What a sampler hands the trainer: the negatives of a batch of ``B`` positives.

    ``shared`` is required and says which of the two shapes ``ids`` has:

    - ``shared=False``: ``ids (B, N)``, row ``b`` the negatives of positive ``b``;
    - ``shared=True``: ``ids (N,)``, one set of negatives for every positive of the batch
      (scored with one matrix product; in-batch and shared popularity samplers).

    A shape that does not match the flag is refused here, so flat ``(B*N,)`` ids can never
    train as shared negatives by accident.

    Attributes:
        ids: int64 item ids in ``[0, num_items)``.
        log_q: log-probability each id was drawn with, the shape of ``ids``; losses with a
            logQ correction read it (see ``Sampler.log_q_known``).
        mask: ``(B, N)`` bool, True = a valid negative of that row, False = ignore it (an
            in-batch "negative" that is the row's own positive). None: all are valid.
        pool, pool_index: per-positive negatives picked from a pool shared by the batch:
            ``ids == pool[pool_index]``, ``pool (P,)``, so scoring the pool is one product.
        pos_log_q: ``(B,)`` log-probability of drawing each row's *positive* as a negative,
            for samplers whose negatives are other rows' positives (in-batch, mixed);
            sampled softmax subtracts it from the positive's score too.
        candidate_scores: ``(B, U)`` scores of all U candidates a sampler scored and kept
            ``N`` of (``hard``), so that a rank-weighted loss counts violators over all U.
    """

    ids: torch.Tensor
    log_q: torch.Tensor
    _: KW_ONLY
    shared: bool
    mask: torch.Tensor | None = None
    pool: torch.Tensor | None = None
    pool_index: torch.Tensor | None = None
    pos_log_q: torch.Tensor | None = None
    candidate_scores: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.ids, torch.Tensor):
            raise TypeError(f"Negatives.ids must be a torch.Tensor, got {type(self.ids).__name__}")
        want = 1 if self.shared else 2
        if self.ids.dim() != want:
            shape = "(N,) with shared=True" if self.shared else "(B, N) with shared=False"
            raise ValueError(f"Negatives.ids must be {shape}, got {tuple(self.ids.shape)}")
        if tuple(self.log_q.shape) != tuple(self.ids.shape):
            raise ValueError(f"Negatives.log_q must have the ids' shape {tuple(self.ids.shape)}, "
                             f"got {tuple(self.log_q.shape)}")

    @property
    def num_negatives(self) -> int:
        """N, negatives per positive."""
        return int(self.ids.shape[-1])

    def per_row(self, b: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``ids`` and ``log_q`` as ``(B, N)``: shared ones expanded (a view, no copy)."""
        if self.shared:
            return self.ids.expand(b, -1), self.log_q.expand(b, -1)
        return self.ids, self.log_q


class DeviceState:
    """State that follows ``to(device)``: every tensor attribute, and every attribute that is
    a ``DeviceState`` itself (a nested sampler, a ``PositiveFilter``). A torch module held as
    an attribute (the mapper a sampler scores with) is not moved: the loop places the model."""

    def to(self, device: torch.device | str) -> Self:
        """Move the tensors this object holds to ``device``; returns ``self``."""
        for name, value in list(vars(self).items()):
            if isinstance(value, torch.Tensor):
                setattr(self, name, value.to(device))
            elif isinstance(value, DeviceState):
                value.to(device)
        return self


class Sampler(DeviceState, ABC):
    """Base class of negative samplers.

    Writing a sampler:

    - Options go to ``__init__`` (see the rules for every component in ``raytrec.hookspecs``);
      set ``self.num_negatives`` there. ``setup(info)`` learns what it needs from the training
      data (``info.item_counts``, ``info.positives``); call ``super().setup(info)``, which sets
      ``self.num_items`` and refuses more negatives than items.
    - ``sample(users, items, generator)`` gets a batch of ``B`` positives, ``(B,)`` int64 each,
      and returns ``Negatives``: ``ids (B, N)`` with ``shared=False`` (negatives per
      positive) or ``ids (N,)`` with ``shared=True`` (one set for the batch), int64 in
      ``[0, num_items)``, and ``log_q`` of the same shape.
    - ``log_q`` is the log-probability each negative was drawn with (``-log I`` for uniform).
      If your negatives are picked by score rather than drawn, set ``log_q_known = False``:
      a loss with a logQ correction is then refused in the config.
    - If some "negatives" are not negatives of a row (in-batch: the row's own positive),
      return ``mask (B, N)``, True = a valid negative.
    - Draw only from ``generator``. A sampler that scores candidates with the model
      overrides ``attach(mapper)`` and scores in ``mapper.eval()`` mode, without gradient.
    - Devices: after ``setup`` the loop calls ``to(device)`` once, where it places the model;
      the batches and the generator then arrive on that device. The default ``to`` moves
      every tensor attribute and every nested sampler or ``PositiveFilter``
      (``DeviceState``); keep tensors there, or override ``to`` (returning ``self``) for
      tensors held elsewhere (lists, dicts). ``sample`` never moves state itself.
    - Check with ``raytrec.testing.check_sampler(MySampler, num_negatives=4)``.
    """

    num_negatives: int
    # Whether ``log_q`` is the probability each negative was drawn with. A sampler that picks
    # its negatives by score (``hard``) reports the proposal's, which a logQ correction must
    # not use.
    log_q_known: bool = True
    # Whether drawing more negatives than the catalogue holds is the sampler's intent (a
    # batch's shared extras, drawn with replacement); otherwise it is refused as a mistake.
    repeats_by_design: bool = False

    def setup(self, info: DataInfo) -> None:
        """Called once per worker with training-data statistics, before the first batch."""
        self.num_items = info.num_items
        n = getattr(self, "num_negatives", 0)
        if n > info.num_items and not self.repeats_by_design:
            raise ArgumentError("num_negatives",
                                f"num_negatives={self.num_negatives} is larger than the catalogue "
                                f"({info.num_items} items); lower sampler.num_negatives")
        if n > max(info.num_items, MAX_SHARED):
            raise ArgumentError(
                "num_negatives", f"num_negatives={n} shared extras are more than the catalogue "
                f"({info.num_items} items) and than {MAX_SHARED:,}: each step scores batch × "
                "(batch + num_negatives); lower sampler.num_negatives (GRU4Rec draws 2048)")

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
        raise ArgumentError(name, f"must be a positive integer, got {n!r}")
    return n
