"""Bayesian Personalised Ranking: -log σ(s_pos - s_neg)."""

from __future__ import annotations

import torch.nn.functional as F

from raytrec.losses.base import Loss, LossInput, LossOutput, check_non_negative


class BPRLoss(Loss):
    """``mean over (b, n) of -log σ(pos_b - neg_bn)`` + ``l2 · mean_b(‖q_b‖² + ‖v_b‖²)``.

    Args:
        l2: weight of the L2 penalty on the batch's query and positive-item vectors
            (BPR's λ‖u‖² + λ‖v‖² applied to the rows in the batch).
    """

    def __init__(self, l2: float = 0.0) -> None:
        super().__init__()
        self.l2 = check_non_negative("l2", l2)

    def compute(self, batch: LossInput) -> LossOutput:
        rank = batch.neg_mean(-F.logsigmoid(batch.pos.unsqueeze(1) - batch.neg)).mean()
        loss = rank
        parts = {"bpr": rank.detach()}
        if self.l2 > 0:
            reg = (batch.query.pow(2).sum(-1) + batch.item.pow(2).sum(-1)).mean()
            loss = loss + self.l2 * reg
            parts["l2"] = reg.detach()
        return LossOutput(loss, parts)
