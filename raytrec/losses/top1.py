"""TOP1 (GRU4Rec): a ranking term plus a term pulling negative scores to zero."""

from __future__ import annotations

import torch

from raytrec.losses.base import Loss, LossInput, LossOutput


def top1_terms(batch: LossInput) -> torch.Tensor:
    """``(B, N)``: ``σ(r_j - r_i) + σ(r_j²)`` for every negative j of row i."""
    return torch.sigmoid(batch.neg - batch.pos.unsqueeze(1)) + torch.sigmoid(batch.neg.pow(2))


class TOP1Loss(Loss):
    """``mean_i (1/N_s) Σ_j [σ(r_j - r_i) + σ(r_j²)]`` (Hidasi et al. 2016)."""

    def compute(self, batch: LossInput) -> LossOutput:
        loss = batch.neg_mean(top1_terms(batch)).mean()
        return LossOutput(loss, {"top1": loss.detach()})
