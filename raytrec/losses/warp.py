"""WARP: the hinge against the hardest sampled negative, weighted by the estimated rank."""

from __future__ import annotations

from raytrec.losses.cml import CMLLoss


class WARPLoss(CMLLoss):
    """``log(J·M/N + 1) · [margin - pos + max_n neg_n]_+`` on scores of any distance.

    Weston et al.'s WARP with the rank estimated from N sampled negatives, M of them violating
    the margin (the approximation CML uses); no covariance term. Like CML, only the hardest
    negative gets a gradient, so the trainer scores the others without one.

    Args:
        margin: required gap between the positive's and the negatives' scores.
    """

    distances = None

    def __init__(self, margin: float = 1.0) -> None:
        super().__init__(margin=margin, lambda_c=0.0, rank_weight=True)
