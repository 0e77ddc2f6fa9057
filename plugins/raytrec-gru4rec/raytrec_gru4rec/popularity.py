"""The popularity baseline of next-item prediction: every next event ranked by the items'
training counts (the same ranking for every session)."""

from __future__ import annotations

import numpy as np
import torch

from raytrec_gru4rec.ranks import RankMetrics, target_ranks
from raytrec_gru4rec.sessions import Sessions


def popularity(train: Sessions, held: Sessions, num_items: int, ks: list[int],
               conservative: bool = False) -> dict[str, float]:
    """Recall@k and MRR@k of every transition of ``held``, items scored by their count in
    ``train``."""
    counts = torch.from_numpy(np.bincount(train.items, minlength=num_items).astype(np.float64))
    at = held.inputs()
    metrics = RankMetrics(ks)
    chunk = max(1, (1 << 24) // max(num_items, 1))  # rows of dense scores: 128 MiB at most
    for s in range(0, len(at), chunk):
        targets = torch.from_numpy(held.items[at[s:s + chunk] + 1])
        metrics.add(target_ranks(counts.expand(len(targets), -1), targets, conservative))
    return metrics.means()
