"""Collaborative Metric Learning (Hsieh et al. 2017): WARP-weighted hinge on squared distance."""

from __future__ import annotations

import torch

from raytrec.losses.base import Loss, LossInput, LossOutput, Selection, check_non_negative


def covariance_loss(x: torch.Tensor) -> torch.Tensor:
    """``L_c = (‖C‖_F² - ‖diag C‖²) / N`` with ``C`` the covariance of the rows of ``x (N, D)``."""
    n = x.shape[0]
    centred = x - x.mean(0, keepdim=True)
    cov = centred.T @ centred / n
    return (cov.pow(2).sum() - cov.diagonal().pow(2).sum()) / n


class CMLLoss(Loss):
    """``L_m + λ_c L_c`` of CML for l2 mappers (scores are ``-d²``).

    For each positive (i, j) with U sampled candidates k:
    ``w_ij · [m + d(i,j)² - min_k d(i,k)²]_+`` with rank weight ``w_ij = log(J·M/U + 1)``,
    J items in the catalogue and M of the U candidates violating the margin. The batch
    mean is taken. ``L_c`` decorrelates the dimensions of the batch's user and item vectors.

    Args:
        margin: m, the safety margin (paper: 0.5).
        lambda_c: weight of the covariance regulariser (paper: 10).
        rank_weight: apply ``w_ij``; without it every violating pair weighs 1.
    """

    metrics = ("l2",)

    def __init__(self, margin: float = 0.5, lambda_c: float = 10.0, rank_weight: bool = True):
        super().__init__()
        self.margin = check_non_negative("margin", margin)
        self.lambda_c = check_non_negative("lambda_c", lambda_c)
        self.rank_weight = bool(rank_weight)

    def select(self, pos: torch.Tensor, neg: torch.Tensor) -> Selection:
        hardest = neg.argmax(dim=1, keepdim=True)
        return Selection(hardest, {"violators": self._violators(pos, neg),
                                   "candidates": torch.tensor(neg.shape[1])})

    def _violators(self, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        return (self.margin - pos.unsqueeze(1) + neg > 0).sum(1)

    def compute(self, batch: LossInput) -> LossOutput:
        pos, neg = batch.pos, batch.neg
        if "violators" in batch.extras:
            violators = batch.extras["violators"]
            candidates = int(batch.extras["candidates"])
        else:
            violators, candidates = self._violators(pos.detach(), neg.detach()), neg.shape[1]
        hinge = torch.relu(self.margin - pos + neg.max(dim=1).values)
        if self.rank_weight:
            weight = torch.log(violators.to(pos.dtype) * (self.num_items / candidates) + 1.0)
            hinge = hinge * weight
        embedding = hinge.mean()
        loss, parts = embedding, {"embedding": embedding.detach()}
        if self.lambda_c > 0:
            cov = covariance_loss(torch.cat([batch.query, batch.item]))
            loss = loss + self.lambda_c * cov
            parts["covariance"] = cov.detach()
        return LossOutput(loss, parts)
