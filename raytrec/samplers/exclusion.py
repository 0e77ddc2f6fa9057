"""Keeping a user's own training positives out of its sampled negatives."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from raytrec.data.base import DataInfo
from raytrec.errors import ArgumentError
from raytrec.samplers.base import DeviceState

# Below this many (user, item) cells membership is one lookup in a dense bool table
# (index_select: ~100x faster than a binary search); above it, binary search in sorted keys.
DENSE_LIMIT = 1 << 26

# Collisions shrink geometrically (by the user's share of positives per round); this only
# bounds pathological cases such as a user whose positives cover nearly every item.
MAX_REDRAWS = 1000


class PositiveFilter(DeviceState):
    """Membership of (user, item) in the training pairs, and the renormalised log q.

    Excluding a user's positives turns ``q(k)`` into ``q(k) / (1 - Σ_{j ∈ pos(u)} q(j))``.
    """

    def __init__(self, info: DataInfo, item_probs: np.ndarray) -> None:
        if info.positives is None:
            raise ArgumentError("exclude_positives",
                                "needs each query's training items, which this "
                                "task's data does not give; set it to false")
        counts = info.positives.counts()
        users = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        self.num_items = info.num_items
        covered = np.bincount(users, weights=item_probs[info.positives.indices],
                              minlength=len(counts))
        self.log_norm = torch.from_numpy(np.log(np.clip(1.0 - covered, 1e-12, None))).float()
        # A user who has every item cannot be given a true negative: leaving their pairs out of
        # the lookup leaves their draws as drawn.
        keep = (counts < info.num_items)[users]
        # CSR rows are sorted by user, then item: the keys are sorted already.
        keys = torch.from_numpy((users * info.num_items + info.positives.indices)[keep])
        # searchsorted needs something to search: -1 matches no (user, item) key.
        self.keys = keys if len(keys) else torch.tensor([-1], dtype=torch.int64)
        self.dense: torch.Tensor | None = None
        if len(counts) * info.num_items <= DENSE_LIMIT:
            self.dense = torch.zeros(len(counts) * info.num_items, dtype=torch.bool)
            self.dense[keys] = True

    def is_positive(self, users: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Elementwise: is ``ids`` a training item of ``users`` (broadcast shapes)."""
        probe = users * self.num_items + ids
        if self.dense is not None:
            return self.dense.index_select(0, probe.reshape(-1)).view_as(probe)
        pos = torch.searchsorted(self.keys, probe).clamp_(max=len(self.keys) - 1)
        return self.keys[pos] == probe

    def redraw(self, users: torch.Tensor, ids: torch.Tensor, draw: Callable[[int], torch.Tensor],
               items_of: Callable[[torch.Tensor], torch.Tensor] = lambda x: x,
               rounds: int = MAX_REDRAWS) -> torch.Tensor:
        """Replace draws ``ids (B, N)`` whose item is one of the user's positives, in place.

        ``draw(n)`` gives n fresh draws; ``items_of`` maps draws to item ids (identity, or a
        lookup into a pool when the draws are pool slots). Returns the flat positions that
        still collide after ``rounds`` rounds (empty unless the draws cannot avoid them).
        """
        flat = ids.view(-1)  # a view: the redraws land in ``ids``
        where = self.is_positive(users.unsqueeze(1), items_of(ids)).view(-1).nonzero().squeeze(1)
        if where.numel() == 0:
            return where
        owner = users.repeat_interleave(ids.shape[1])
        # Only the redrawn slots are checked again: each round is a tiny fraction of the batch.
        for _ in range(rounds):
            if where.numel() == 0:
                break
            fresh = draw(where.numel())
            flat[where] = fresh
            where = where[self.is_positive(owner[where], items_of(fresh))]
        return where
