"""BPR-max (GRU4Rec with top-k gains): BPR against a softmax-weighted mix of negatives."""

from __future__ import annotations

import torch

from raytrec.losses.base import Loss, LossInput, LossOutput, check_non_negative


class BPRMaxLoss(Loss):
    """``mean_i [-log Σ_j s_j σ(r_i - r_j) + λ Σ_j s_j r_j²]``, ``s = softmax`` over negatives.

    ``-log Σ_j s_j σ(r_i - r_j)`` approximates ``-log P(r_i > max_j r_j)``; the score
    regularisation ``λ Σ_j s_j r_j²`` keeps negative scores from drifting (the paper's bpreg).

    Args:
        bpreg: λ, weight of the softmax-weighted squared negative scores (the reference
            implementation's name and default).
    """

    def __init__(self, bpreg: float = 1.0) -> None:
        super().__init__()
        self.bpreg = check_non_negative("bpreg", bpreg)

    def compute(self, batch: LossInput) -> LossOutput:
        s = batch.neg_softmax()
        win = (s * torch.sigmoid(batch.pos.unsqueeze(1) - batch.neg)).sum(1)
        ranking = -torch.log(win + 1e-24).mean()
        loss, parts = ranking, {"bpr_max": ranking.detach()}
        if self.bpreg > 0:
            reg = (s * batch.neg.pow(2)).sum(1).mean()
            loss = loss + self.bpreg * reg
            parts["bpreg"] = reg.detach()
        return LossOutput(loss, parts)
