"""CML loss against hand-computed values, and the two-phase step against the full one."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from raytrec.data.base import DataInfo
from raytrec.losses.base import LossInput
from raytrec.losses.cml import CMLLoss, covariance_loss


def _loss(num_items: int = 100, **kwargs) -> CMLLoss:
    loss = CMLLoss(**kwargs)
    loss.setup(DataInfo(10, num_items, np.ones(num_items, dtype=np.int64)))
    return loss


def _batch(pos, neg, d: int = 2) -> LossInput:
    pos, neg = torch.tensor(pos, dtype=torch.float64), torch.tensor(neg, dtype=torch.float64)
    vecs = torch.zeros(len(pos), d, dtype=torch.float64)
    return LossInput(pos, neg, torch.zeros_like(neg), vecs, vecs)


def test_hinge_with_rank_weight_matches_hand_numbers() -> None:
    # Scores are -d². Row 0: d_pos²=0.2, candidates d²=0.3, 1.0, 0.1, margin 0.5.
    # hardest hinge = 0.5 + 0.2 - 0.1 = 0.6; violators: 0.4>0, -0.3, 0.6>0 -> M=2 of U=3.
    # w = log(100·2/3 + 1). Row 1: 0.5 + 0.5 - 1.5 < 0 -> 0.
    out = _loss(lambda_c=0.0)(_batch([-0.2, -0.5], [[-0.3, -1.0, -0.1], [-2.0, -3.0, -1.5]]))
    expected = 0.6 * math.log(100 * 2 / 3 + 1) / 2
    assert out.loss.item() == pytest.approx(expected, rel=1e-9)


def test_without_rank_weight_is_plain_hardest_hinge() -> None:
    out = _loss(lambda_c=0.0, rank_weight=False)(_batch([-0.2, -0.5], [[-0.3, -0.1], [-2.0, -0.1]]))
    assert out.loss.item() == pytest.approx((0.6 + 0.9) / 2)


def test_covariance_loss_hand_value() -> None:
    # Rows (1,2), (3,0): mean (2,1); centred (-1,1), (1,-1); C = [[1,-1],[-1,1]].
    # ‖C‖_F² - ‖diag‖² = 4 - 2 = 2; divided by N=2 -> 1.
    x = torch.tensor([[1.0, 2.0], [3.0, 0.0]])
    assert covariance_loss(x).item() == pytest.approx(1.0)


def test_covariance_is_zero_for_uncorrelated_dimensions() -> None:
    x = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    assert covariance_loss(x).item() == pytest.approx(0.0)


def test_select_picks_hardest_and_counts_violators() -> None:
    loss = _loss()
    sel = loss.select(torch.tensor([-0.2]), torch.tensor([[-0.3, -1.0, -0.1]]))
    assert sel.index.tolist() == [[2]]
    assert sel.violators.tolist() == [2] and sel.candidates.tolist() == [3]


def test_gradcheck() -> None:
    loss = _loss(num_items=50, lambda_c=3.0)
    torch.manual_seed(0)
    q = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    p = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    n = torch.randn(4, 5, 3, dtype=torch.float64, requires_grad=True)

    def f(q, p, n):
        pos = -(q - p).pow(2).sum(-1)
        neg = -(q.unsqueeze(1) - n).pow(2).sum(-1)
        return loss(LossInput(pos, neg, torch.zeros_like(neg), q, p)).loss

    assert torch.autograd.gradcheck(f, (q, p, n))


@pytest.mark.parametrize("negatives", [1, 20])
def test_negative_margin_rejected(negatives: int) -> None:
    with pytest.raises(ValueError, match="margin"):
        CMLLoss(margin=-0.1 * negatives)


def test_covariance_closed_form_gradient() -> None:
    x = torch.randn(7, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(covariance_loss, (x,))
    a, b = x[:3].detach().requires_grad_(), x[3:].detach().requires_grad_()
    assert torch.autograd.gradcheck(covariance_loss, (a, b))
    assert covariance_loss(a, b).item() == pytest.approx(covariance_loss(x).item())

    def reference(x):
        centred = x - x.mean(0, keepdim=True)
        cov = centred.T @ centred / x.shape[0]
        return (cov.pow(2).sum() - cov.diagonal().pow(2).sum()) / x.shape[0]

    covariance_loss(x).backward()
    want = torch.autograd.grad(reference(x), x)[0]
    torch.testing.assert_close(x.grad, want)


def test_feature_loss_term() -> None:
    loss = _loss(lambda_c=0.0, lambda_f=0.5)
    batch = _batch([-0.2], [[-5.0]])  # hinge 0: only the feature term remains
    batch.item = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    batch.item_features = torch.tensor([[0.0, 0.0]], dtype=torch.float64)
    assert loss(batch).loss.item() == pytest.approx(0.5 * 5.0)
    assert loss.requires == ("item_features",)
