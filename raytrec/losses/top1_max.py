"""TOP1-max (GRU4Rec with top-k gains): TOP1 weighted by the softmax of negative scores."""

from __future__ import annotations

from raytrec.losses.base import Loss, LossInput, LossOutput
from raytrec.losses.top1 import top1_terms


class TOP1MaxLoss(Loss):
    """``mean_i Σ_j s_j [σ(r_j - r_i) + σ(r_j²)]``, ``s = softmax`` over row i's negatives.

    The softmax concentrates the loss on the negatives that score highest, so that many
    sampled negatives do not dilute it (Hidasi & Karatzoglou 2018).
    """

    def compute(self, batch: LossInput) -> LossOutput:
        loss = (batch.neg_softmax() * top1_terms(batch)).sum(1).mean()
        return LossOutput(loss, {"top1_max": loss.detach()})
