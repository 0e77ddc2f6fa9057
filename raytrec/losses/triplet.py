"""Triplet hinge: every sampled negative should score ``margin`` below the positive."""

from __future__ import annotations

import torch

from raytrec.losses.base import Loss, LossInput, LossOutput, check_non_negative


class TripletLoss(Loss):
    """``mean_b mean_n [margin - pos_b + neg_bn]_+`` on scores of any distance.

    Args:
        margin: required gap between a positive's score and each negative's.
    """

    def __init__(self, margin: float = 1.0) -> None:
        super().__init__()
        self.margin = check_non_negative("margin", margin)

    def compute(self, batch: LossInput) -> LossOutput:
        hinge = torch.relu(self.margin - batch.pos.unsqueeze(1) + batch.neg)
        loss = batch.neg_mean(hinge).mean()
        return LossOutput(loss, {"triplet": loss.detach()})
