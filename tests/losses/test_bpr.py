"""BPR against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from raytrec.data.base import DataInfo
from raytrec.losses.base import LossInput
from raytrec.losses.bpr import BPRLoss


def _input(pos, neg, q=None, v=None) -> LossInput:
    pos, neg = torch.tensor(pos, dtype=torch.float64), torch.tensor(neg, dtype=torch.float64)
    q = torch.tensor(q if q is not None else [[0.0]] * len(pos), dtype=torch.float64)
    v = torch.tensor(v if v is not None else [[0.0]] * len(pos), dtype=torch.float64)
    return LossInput(pos, neg, torch.zeros_like(neg), q, v)


def _sp(x: float) -> float:
    return math.log1p(math.exp(-x))  # -log σ(x)


def test_bpr_hand_numbers() -> None:
    loss = BPRLoss()
    loss.setup(DataInfo(1, 5, np.ones(5, dtype=np.int64)))
    out = loss(_input([2.0, 0.0], [[1.0, 3.0], [0.0, -1.0]]))
    expected = (_sp(1.0) + _sp(-1.0) + _sp(0.0) + _sp(1.0)) / 4
    assert out.loss.item() == pytest.approx(expected)


def test_bpr_l2_penalty() -> None:
    loss = BPRLoss(l2=0.5)
    out = loss(_input([0.0], [[0.0]], q=[[1.0, 2.0]], v=[[2.0, 0.0]]))
    assert out.loss.item() == pytest.approx(math.log(2) + 0.5 * (5 + 4))


def test_bpr_gradcheck() -> None:
    loss = BPRLoss(l2=0.1)
    pos = torch.randn(3, dtype=torch.float64, requires_grad=True)
    neg = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    q = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)

    def f(pos, neg, q):
        return loss(LossInput(pos, neg, torch.zeros_like(neg), q, q)).loss

    assert torch.autograd.gradcheck(f, (pos, neg, q))


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="neg scores"):
        BPRLoss()(LossInput(torch.zeros(3), torch.zeros(2, 4), torch.zeros(2, 4),
                            torch.zeros(3, 1), torch.zeros(3, 1)))
