"""Pointwise logistic loss: positives labelled 1, sampled negatives 0."""

from __future__ import annotations

import torch.nn.functional as F

from raytrec.api import ArgumentError, Loss, LossInput, LossOutput


class LogisticLoss(Loss):
    """``mean_b softplus(-pos_b) + neg_weight · mean_b mean_n softplus(neg_bn)``.

    That is binary cross-entropy on ``σ(score)``, as in word2vec's negative sampling. The mean
    over ``n`` takes each row's valid negatives only (``batch.mask``: in-batch samplers mask
    a row's own positive).

    Args:
        neg_weight: weight of the negative term relative to the positive one.
    """

    def __init__(self, neg_weight: float = 1.0) -> None:
        super().__init__()
        if neg_weight <= 0:
            raise ArgumentError("neg_weight", f"must be > 0, got {neg_weight}")
        self.neg_weight = float(neg_weight)

    def compute(self, batch: LossInput) -> LossOutput:
        pos = F.softplus(-batch.pos).mean()
        neg = batch.neg_mean(F.softplus(batch.neg)).mean()
        loss = pos + self.neg_weight * neg
        return LossOutput(loss, {"positive": pos.detach(), "negative": neg.detach()})
