"""The popularity baseline of next-item prediction: every next event ranked by the items'
training counts (the same ranking for every session)."""

from __future__ import annotations

import numpy as np
import torch

from raytrec_gru4rec.ranks import transition_metrics
from raytrec_gru4rec.sessions import Sessions


def popularity(train: Sessions, held: Sessions, num_items: int, ks: list[int],
               conservative: bool = False) -> dict[str, float]:
    """Recall@k and MRR@k of every transition of ``held``, items scored by their count in
    ``train``."""
    counts = torch.from_numpy(np.bincount(train.items, minlength=num_items).astype(np.float64))
    return transition_metrics(held, lambda items: counts.expand(len(items), -1), num_items, ks,
                              conservative).means()
