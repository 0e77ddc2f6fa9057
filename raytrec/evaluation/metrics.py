"""Ranking metrics from top-k lists: Recall, nDCG, MRR and HitRate @K."""

from __future__ import annotations

import numpy as np

from raytrec.data.store import UserItems

NAMES = ("recall", "ndcg", "mrr", "hr")


def metric_names(ks: list[int]) -> list[str]:
    return [f"{name}@{k}" for k in ks for name in NAMES]


def per_user(
    top: np.ndarray, users: np.ndarray, relevant: UserItems, ks: list[int], num_items: int
) -> dict[str, np.ndarray]:
    """Per-user metrics of ranked lists ``top (B, K)`` (``-1`` = empty slot).

    - ``recall@k``: hits in the top k / number of relevant items (CML paper's Recall@K).
    - ``ndcg@k``: DCG of the hits / ideal DCG of min(k, relevant) hits, gain 1/log2(rank+2).
    - ``mrr@k``: 1 / rank of the first hit within k, else 0.
    - ``hr@k``: 1 if any hit within k.
    """
    hits = relevant.contains(users, top, num_items).astype(np.float64)
    n_rel = relevant.counts()[users].astype(np.float64)
    discount = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
    ideal = np.cumsum(discount)
    first = np.where(hits.any(1), hits.argmax(1), hits.shape[1])
    out: dict[str, np.ndarray] = {}
    for k in ks:
        h = hits[:, :k]
        n_hit = h.sum(1)
        out[f"recall@{k}"] = n_hit / np.maximum(n_rel, 1)
        idcg = ideal[np.minimum(n_rel, k).astype(np.int64) - 1]
        out[f"ndcg@{k}"] = (h * discount[:k]).sum(1) / idcg
        out[f"mrr@{k}"] = np.where(first < k, 1.0 / (first + 1), 0.0)
        out[f"hr@{k}"] = (n_hit > 0).astype(np.float64)
    return out
