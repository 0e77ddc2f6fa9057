"""Collaborative Metric Learning (Hsieh et al. 2017): WARP-weighted hinge on squared distance."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from raytrec.errors import ArgumentError
from raytrec.losses.base import Loss, LossInput, LossOutput, Selection, check_non_negative


class _Covariance(torch.autograd.Function):
    """Off-diagonal covariance energy of the rows of several blocks, gradient in closed form.

    ``∂L/∂x = 4 / N² · x_c · off(C)``; the centring needs no backward because the columns of
    ``x_c · off(C)`` already sum to zero. Blocks are never concatenated, and the scale goes on
    the (D, D) matrix rather than on the (N, D) result.
    """

    @staticmethod
    def forward(ctx, *blocks: torch.Tensor) -> torch.Tensor:
        n = sum(b.shape[0] for b in blocks)
        mean = sum(b.sum(0, keepdim=True) for b in blocks) / n
        centred = [b - mean for b in blocks]
        cov = sum(c.T @ c for c in centred) / n
        cov.diagonal().zero_()
        ctx.save_for_backward(cov, *centred)
        ctx.n = n
        return cov.pow(2).sum() / n

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, ...]:
        off, *centred = ctx.saved_tensors
        scaled = off * (4.0 * grad / (ctx.n * ctx.n))
        return tuple(c @ scaled for c in centred)


@dataclass
class RankSelection(Selection):
    """The hardest candidate of each row, and the counts its rank weight needs."""

    violators: torch.Tensor  # (B,) candidates violating the margin
    candidates: torch.Tensor  # (B,) valid candidates U


def covariance_loss(*blocks: torch.Tensor) -> torch.Tensor:
    """``L_c = (‖C‖_F² - ‖diag C‖²) / N``, ``C`` the covariance of the rows of all ``blocks``.

    Each block is ``(N_b, D)``; the rows of all blocks together (N of them) are the sample.
    """
    return _Covariance.apply(*blocks)


class CMLLoss(Loss):
    """``L_m + λ_f L_f + λ_c L_c`` of CML for l2 mappers (scores are ``-d²``).

    For each positive (i, j) with U sampled candidates k:
    ``w_ij · [m + d(i,j)² - min_k d(i,k)²]_+`` with rank weight ``w_ij = log(J·M/U + 1)``,
    J items in the catalogue and M of the U candidates violating the margin. The batch
    mean is taken. ``L_c`` decorrelates the dimensions of the batch's user and item vectors.
    Its sample is the rows of the batch as they come: a user (or item) with several positives
    in the batch counts once per row, as in the paper (``n`` runs over the batch) and its
    reference code (users' and positive items' vectors of the batch, concatenated);
    ``L_f = mean_j ‖f(x_j) - v_j‖²`` pulls each positive item's vector toward the projection of
    its features, which a feature mapper (``feature-mlp``) provides.

    Args:
        margin: m, the safety margin (paper: 0.5), in squared distance: it scales with the
            square of the mapper's ``max_norm`` (raytrec's default 1.9 is for the unit ball,
            where two random vectors lie about 2 apart; within radius r use 1.9·r²).
        lambda_c: weight of the covariance regulariser (paper: 10).
        rank_weight: apply ``w_ij``; without it every violating pair weighs 1.
        lambda_f: weight of the feature loss (paper: 1, MovieLens 0.5); needs a mapper that
            provides ``item_features``.
        negative: which of the U candidates the hinge uses. ``hardest`` (paper): the closest
            to the user. ``semi-hard`` (FaceNet's rule): the closest of those farther from
            the user than the positive, the hardest only when every candidate is closer: a
            candidate closer than a known positive is often an item the user likes or a
            popular one. It recovers part of what many candidates (U = 20) lose on MovieLens
            and leads on sparse synthetic sets, but costs on MovieLens-100K at U = 3
            (benchmarks/README.md, "Data raytrec was not tuned on").
    """

    distances = ("l2",)
    NEGATIVES = ("hardest", "semi-hard")

    def __init__(self, margin: float = 0.5, lambda_c: float = 10.0, rank_weight: bool = True,
                 lambda_f: float = 0.0, negative: str = "hardest"):
        super().__init__()
        if negative not in self.NEGATIVES:
            raise ArgumentError("negative", f"must be one of {', '.join(self.NEGATIVES)}, got "
                                f"{negative!r}")
        self.negative = negative
        self.margin = check_non_negative("margin", margin)
        self.lambda_c = check_non_negative("lambda_c", lambda_c)
        self.lambda_f = check_non_negative("lambda_f", lambda_f)
        self.rank_weight = bool(rank_weight)
        self.requires = ("item_features",) if self.lambda_f > 0 else ()

    def select(self, pos: torch.Tensor, neg: torch.Tensor,
               mask: torch.Tensor | None = None) -> RankSelection:
        if mask is not None:
            neg = neg.masked_fill(~mask, float("-inf"))
        return RankSelection(self._pick(pos, neg), self._violators(pos, neg),
                             self._candidates(neg, mask))

    def _pick(self, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        """``(B, 1)`` index of the candidate the hinge uses (masked candidates are -inf)."""
        hardest = neg.argmax(dim=1, keepdim=True)
        if self.negative == "hardest":
            return hardest
        farther = (neg < pos.unsqueeze(1)) & torch.isfinite(neg)
        semi = neg.masked_fill(~farther, float("-inf")).argmax(dim=1, keepdim=True)
        return torch.where(farther.any(dim=1, keepdim=True), semi, hardest)

    def _violators(self, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        return (self.margin - pos.unsqueeze(1) + neg > 0).sum(1)

    @staticmethod
    def _candidates(neg: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """U per row: the valid candidates."""
        if mask is None:
            return torch.full((neg.shape[0],), neg.shape[1], device=neg.device)
        return mask.sum(1).clamp_min(1)

    def compute(self, batch: LossInput) -> LossOutput:
        pos, neg = batch.pos, batch.masked_scores()
        scored, sel = batch.candidate_scores, batch.selection
        if scored is not None:  # the sampler kept a few of the U it scored: count over all U
            violators = self._violators(pos.detach(), scored)
            candidates = self._candidates(scored, None)
        elif isinstance(sel, RankSelection):  # the trainer kept the hardest: counts from select
            violators, candidates = sel.violators, sel.candidates
        else:
            violators = self._violators(pos.detach(), neg.detach())
            candidates = self._candidates(neg, batch.mask)
        if neg.shape[1] > 1:  # no selection before the batch: pick among all candidates here
            neg = neg.gather(1, self._pick(pos.detach(), neg.detach()))
        hinge = torch.relu(self.margin - pos + neg[:, 0])
        if self.rank_weight:
            rank = violators.to(pos.dtype) * self.num_items / candidates.to(pos.dtype)
            hinge = hinge * torch.log(rank + 1.0)
        embedding = hinge.mean()
        loss, parts = embedding, {"embedding": embedding.detach()}
        if self.lambda_c > 0:
            cov = covariance_loss(batch.query, batch.item)
            loss = loss + self.lambda_c * cov
            parts["covariance"] = cov.detach()
        if self.lambda_f > 0:
            if batch.item_features is None:
                raise ValueError("lambda_f > 0 needs item_features from the mapper "
                                 "(mapper feature-mlp); set lambda_f: 0 or change the mapper")
            feature = (batch.item_features - batch.item).pow(2).sum(1).mean()
            loss = loss + self.lambda_f * feature
            parts["feature"] = feature.detach()
        return LossOutput(loss, parts)
