"""Squared error on the scores: matrix factorisation of explicit ratings."""

from __future__ import annotations

from raytrec.losses.base import Loss, LossInput, LossOutput, check_non_negative


class MSELoss(Loss):
    """``mean_b (r_b - s_b)² + w · mean_bn s_bn² + l2 · mean_b(‖q_b‖² + ‖v_b‖²)``.

    ``r`` is the interaction's rating when the data has ratings, else ``implicit_rating``.
    With ``negative_weight`` w > 0, sampled negatives are fitted to 0 (implicit feedback as
    in WRMF, with sampling instead of the full matrix); with 0 they are ignored.

    Args:
        l2: weight of the L2 penalty on the batch's query and item vectors.
        negative_weight: weight of the squared scores of sampled negatives.
        implicit_rating: the target of a positive when the data has no ratings.
    """

    uses_ratings = True

    def __init__(self, l2: float = 0.0, negative_weight: float = 0.0,
                 implicit_rating: float = 1.0) -> None:
        super().__init__()
        self.l2 = check_non_negative("l2", l2)
        self.negative_weight = check_non_negative("negative_weight", negative_weight)
        self.implicit_rating = float(implicit_rating)
        self.uses_negatives = self.negative_weight > 0

    def compute(self, batch: LossInput) -> LossOutput:
        target = batch.rating if batch.rating is not None else self.implicit_rating
        error = (target - batch.pos).pow(2).mean()
        loss, parts = error, {"mse": error.detach()}
        if self.negative_weight > 0:
            neg = batch.neg_mean(batch.neg.pow(2)).mean()
            loss = loss + self.negative_weight * neg
            parts["negative"] = neg.detach()
        if self.l2 > 0:
            reg = (batch.query.pow(2).sum(-1) + batch.item.pow(2).sum(-1)).mean()
            loss = loss + self.l2 * reg
            parts["l2"] = reg.detach()
        return LossOutput(loss, parts)
