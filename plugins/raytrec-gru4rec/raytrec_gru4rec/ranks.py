"""Next-item ranks and the metrics of them (GRU4Rec's evaluation protocol).

The target's rank among all items of the catalogue is the number of items scoring strictly
higher, plus one; ``conservative`` counts ties against the target (every item scoring at least
as high, the target included), which a model that scores many items alike cannot game.
Nothing is excluded: an item already in the session may come again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from raytrec_gru4rec.sessions import Sessions

DENSE_CELLS = 1 << 24  # scores a baseline holds at once (128 MiB of float64)


def target_ranks(scores: torch.Tensor, targets: torch.Tensor,
                 conservative: bool = False) -> torch.Tensor:
    """Ranks (1 = top) of ``targets (B,)`` under ``scores (B, I)``."""
    target = scores.gather(1, targets.view(-1, 1))
    if conservative:
        return (scores >= target).sum(1)
    return (scores > target).sum(1) + 1


class RankMetrics:
    """Recall@k (the target within the top k) and MRR@k (1/rank there, 0 beyond), summed over
    events as they come and averaged at the end."""

    def __init__(self, ks: list[int]) -> None:
        self.ks = sorted(set(ks))
        self.events = 0
        self.recall = np.zeros(len(self.ks))
        self.mrr = np.zeros(len(self.ks))

    def add(self, ranks: torch.Tensor) -> None:
        r = ranks.detach().to("cpu", torch.float64)
        for i, k in enumerate(self.ks):
            hit = r <= k
            self.recall[i] += float(hit.sum())
            self.mrr[i] += float((hit / r).sum())
        self.events += len(r)

    def means(self) -> dict[str, float]:
        out = {"events": float(self.events)}
        for i, k in enumerate(self.ks):
            out[f"recall@{k}"] = float(self.recall[i]) / max(self.events, 1)
            out[f"mrr@{k}"] = float(self.mrr[i]) / max(self.events, 1)
        return out

    def all_reduced(self, device: torch.device) -> RankMetrics:
        """The sums over every Ray Train worker (each scored its own sessions); itself
        outside a process group."""
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return self
        t = torch.tensor([self.events, *self.recall, *self.mrr], dtype=torch.float64,
                         device=device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        values = t.cpu().numpy()
        out = RankMetrics(self.ks)
        n = len(self.ks)
        out.events = int(values[0])
        out.recall, out.mrr = values[1:1 + n].copy(), values[1 + n:].copy()
        return out


def transition_metrics(held: Sessions, scores: Callable[[np.ndarray], torch.Tensor],
                       num_items: int, ks: list[int], conservative: bool = False) -> RankMetrics:
    """Sums over every transition of ``held`` of a model that scores the next item from the
    current one alone: ``scores(items (n,))`` -> ``(n, I)``, a few rows at a time."""
    inputs = held.inputs()
    metrics = RankMetrics(ks)
    chunk = max(1, DENSE_CELLS // max(num_items, 1))
    for s in range(0, len(inputs), chunk):
        at = inputs[s:s + chunk]
        metrics.add(target_ranks(scores(held.items[at]), torch.from_numpy(held.items[at + 1]),
                                 conservative))
    return metrics
