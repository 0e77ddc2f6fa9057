"""A loss: the squared hinge between a positive and each of its valid negatives."""

from __future__ import annotations

import torch

from raytrec.api import ArgumentError, Loss, LossInput, LossOutput


class SquaredHingeLoss(Loss):
    """``mean_b mean_n [margin - pos_b + neg_bn]_+²`` over each row's valid negatives.

    Args:
        margin: the gap wanted between a positive's score and its negatives'.
    """

    def __init__(self, margin: float = 0.5) -> None:
        super().__init__()  # a loss is a torch module
        if margin < 0:
            raise ArgumentError("margin", f"must be >= 0, got {margin}")  # keyed loss.margin
        self.margin = float(margin)

    def compute(self, batch: LossInput) -> LossOutput:
        hinge = torch.relu(self.margin - batch.pos.unsqueeze(1) + batch.neg).pow(2)
        loss = batch.neg_mean(hinge).mean()  # masked negatives count for nothing
        return LossOutput(loss, {"hinge": loss.detach()})
