"""CML's choice among the U candidates: the hardest, or FaceNet's semi-hard rule."""

from __future__ import annotations

import pytest
import torch

from raytrec.losses.cml import CMLLoss


def test_semi_hard_takes_the_closest_candidate_farther_than_the_positive() -> None:
    # Scores are -d²: higher is closer. Row 0: candidates 1 and 3 are closer than the
    # positive (-1.0), the closest of the others is 2. Row 1: every candidate is closer, so it
    # falls back to the hardest. Row 2: the masked candidate 0 would be "farther" but is no
    # candidate at all.
    pos = torch.tensor([-1.0, -3.0, -1.0])
    neg = torch.tensor([[-2.0, -0.5, -1.5, -0.2],
                        [-1.0, -0.5, -2.0, -2.5],
                        [-3.0, -0.1, -0.2, -0.3]])
    mask = torch.tensor([[True] * 4, [True] * 4, [False, True, True, True]])
    semi = CMLLoss(margin=1.0, negative="semi-hard").select(pos, neg, mask)
    hardest = CMLLoss(margin=1.0).select(pos, neg, mask)
    assert semi.index.flatten().tolist() == [2, 1, 1]
    assert hardest.index.flatten().tolist() == [3, 1, 1]
    # The rank weight counts the margin's violators among all U either way.
    assert semi.violators.tolist() == hardest.violators.tolist() == [3, 4, 3]


def test_semi_hard_without_a_selection_step_uses_the_same_candidate() -> None:
    from raytrec.losses.base import LossInput

    pos = torch.tensor([-1.0])
    neg = torch.tensor([[-2.0, -0.5, -1.5, -0.2]])
    batch = LossInput(pos, neg, torch.zeros_like(neg), torch.zeros(1, 2), torch.zeros(1, 2))
    loss = CMLLoss(margin=1.0, lambda_c=0.0, rank_weight=False, negative="semi-hard")
    # hinge [m - pos + neg]: with candidate 2 (-1.5), 1 + 1 - 1.5
    assert float(loss(batch).loss) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="negative must be one of hardest, semi-hard"):
        CMLLoss(negative="hard")
