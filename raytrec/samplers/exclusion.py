"""Keeping a user's own training positives out of its sampled negatives."""

from __future__ import annotations

import numpy as np
import torch

from raytrec.data.base import DataInfo

# Below this many (user, item) cells membership is one lookup in a dense bool table
# (index_select: ~100x faster than a binary search); above it, binary search in sorted keys.
DENSE_LIMIT = 1 << 26

# Collisions shrink geometrically (by the user's share of positives per round); this only
# bounds pathological cases such as a user whose positives cover nearly every item.
MAX_REDRAWS = 1000


class PositiveFilter:
    """Membership of (user, item) in the training pairs, and the renormalised log q.

    Excluding a user's positives turns ``q(k)`` into ``q(k) / (1 - Σ_{j ∈ pos(u)} q(j))``.
    """

    def __init__(self, info: DataInfo, item_probs: np.ndarray) -> None:
        if info.positives is None:
            raise ValueError("exclude_positives needs the training pairs; none were loaded")
        counts = info.positives.counts()
        users = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        self.num_items = info.num_items
        # CSR rows are sorted by user, then item: the keys are sorted already.
        self.keys = torch.from_numpy(users * info.num_items + info.positives.indices)
        self.dense: torch.Tensor | None = None
        if len(counts) * info.num_items <= DENSE_LIMIT:
            self.dense = torch.zeros(len(counts) * info.num_items, dtype=torch.bool)
            self.dense[self.keys] = True
        covered = np.bincount(users, weights=item_probs[info.positives.indices],
                              minlength=len(counts))
        self.log_norm = torch.from_numpy(np.log(np.clip(1.0 - covered, 1e-12, None))).float()
        # Users who have every item cannot be given a true negative; theirs are left as drawn.
        self.saturated = torch.from_numpy(counts >= info.num_items)

    def to(self, device: torch.device) -> PositiveFilter:
        if self.keys.device != device:
            self.keys, self.log_norm = self.keys.to(device), self.log_norm.to(device)
            self.saturated = self.saturated.to(device)
            if self.dense is not None:
                self.dense = self.dense.to(device)
        return self

    def is_positive(self, users: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Elementwise: is ``ids`` a training item of ``users`` (broadcast shapes)."""
        probe = users * self.num_items + ids
        if self.dense is not None:
            return self.dense.index_select(0, probe.reshape(-1)).view_as(probe)
        pos = torch.searchsorted(self.keys, probe).clamp_(max=len(self.keys) - 1)
        return self.keys[pos] == probe

    def redraw(self, users: torch.Tensor, ids: torch.Tensor, draw) -> torch.Tensor:
        """Replace ids (B, N) that are the user's positives with fresh draws from ``draw(n)``."""
        if len(self.keys) == 0:
            return ids
        owner = users.unsqueeze(1).expand_as(ids).reshape(-1)
        flat = ids.reshape(-1)
        hit = self.is_positive(owner, flat) & ~self.saturated[owner]
        where = hit.nonzero().squeeze(1)
        # Only the redrawn slots are checked again: each round is a tiny fraction of the batch.
        for _ in range(MAX_REDRAWS):
            if where.numel() == 0:
                break
            fresh = draw(where.numel())
            flat[where] = fresh
            where = where[self.is_positive(owner[where], fresh)]
        return flat.view_as(ids)
