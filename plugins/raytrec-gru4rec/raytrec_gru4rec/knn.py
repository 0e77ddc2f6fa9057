"""The item-kNN baseline of GRU4Rec's paper: the next item scored by its similarity to the
current one, from how often the two share a training session.

``sim(i, j) = c(i, j) / ((s_i + λ)^α (s_j + λ)^(1-α))``, ``c`` the sessions holding both,
``s`` the sessions holding each; λ = 20 and α = 0.5 (cosine, regularised) as in the paper's
reference code.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.sparse import csr_matrix

from raytrec_gru4rec.ranks import transition_metrics
from raytrec_gru4rec.sessions import Sessions


class ItemKNN:
    def __init__(self, num_items: int, regularisation: float = 20.0, alpha: float = 0.5) -> None:
        self.num_items, self.lam, self.alpha = num_items, regularisation, alpha
        self.sim: csr_matrix | None = None

    def fit(self, train: Sessions) -> ItemKNN:
        rows = np.repeat(np.arange(len(train)), train.lengths)
        x = csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, train.items)),
                       shape=(len(train), self.num_items))
        x.data[:] = 1.0  # duplicates were summed: an item repeated in a session counts once
        support = np.asarray(x.sum(0)).ravel()
        co = (x.T @ x).tocsr()
        co.setdiag(0)
        co.eliminate_zeros()
        left = (support + self.lam) ** self.alpha
        right = (support + self.lam) ** (1 - self.alpha)
        co = co.multiply(1 / left[:, None]).multiply(1 / right[None, :])
        self.sim = csr_matrix(co)
        return self

    def scores(self, items: np.ndarray) -> torch.Tensor:
        """``(len(items), I)``: every item's score as the next after each of ``items``."""
        assert self.sim is not None, "fit first"
        return torch.from_numpy(self.sim[items].toarray())

    def evaluate(self, sessions: Sessions, ks: list[int],
                 conservative: bool = False) -> dict[str, float]:
        """Recall@k and MRR@k of every transition of ``sessions``."""
        return transition_metrics(sessions, self.scores, self.num_items, ks,
                                  conservative).means()
