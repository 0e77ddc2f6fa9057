"""Triplet, WARP, TOP1, TOP1-max, BPR-max and InfoNCE against hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from raytrec.data.base import DataInfo
from raytrec.losses.base import LossInput
from raytrec.losses.bpr_max import BPRMaxLoss
from raytrec.losses.infonce import InfoNCELoss
from raytrec.losses.top1 import TOP1Loss
from raytrec.losses.top1_max import TOP1MaxLoss
from raytrec.losses.triplet import TripletLoss
from raytrec.losses.warp import WARPLoss
from raytrec.plugins import load_registry

POS = [1.0, 0.0]
NEG = [[0.5, 2.0], [-1.0, 0.0]]


def _sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _in(pos=POS, neg=NEG, log_q=None, mask=None) -> LossInput:
    p, n = torch.tensor(pos, dtype=torch.float64), torch.tensor(neg, dtype=torch.float64)
    q = torch.zeros_like(n) if log_q is None else torch.tensor(log_q, dtype=torch.float64)
    v = torch.zeros(len(pos), 2, dtype=torch.float64)
    return LossInput(p, n, q, v, v, mask=None if mask is None else torch.tensor(mask))


def _softmax(row: list[float]) -> list[float]:
    e = [math.exp(x) for x in row]
    return [x / sum(e) for x in e]


def test_triplet() -> None:
    # row 0: [1 - 1 + 0.5]+ = 0.5, [1 - 1 + 2]+ = 2; row 1: [1 - 0 - 1]+ = 0, [1 + 0]+ = 1.
    assert TripletLoss(margin=1.0)(_in()).loss.item() == pytest.approx((1.25 + 0.5) / 2)


def test_warp_hardest_with_rank_weight() -> None:
    loss = WARPLoss(margin=1.0)
    loss.setup(DataInfo(2, 10, np.ones(10, dtype=np.int64)))
    # row 0: hardest 2.0, hinge 2, M = 2 of N = 2 -> w = log(10 + 1); row 1: hinge 1, M = 1.
    want = (2 * math.log(11) + 1 * math.log(10 * 1 / 2 + 1)) / 2
    assert loss(_in()).loss.item() == pytest.approx(want)


def test_top1() -> None:
    row0 = (_sig(-0.5) + _sig(0.25) + _sig(1.0) + _sig(4.0)) / 2
    row1 = (_sig(-1.0) + _sig(1.0) + _sig(0.0) + _sig(0.0)) / 2
    assert TOP1Loss()(_in()).loss.item() == pytest.approx((row0 + row1) / 2)


def test_top1_max() -> None:
    s0, s1 = _softmax([0.5, 2.0]), _softmax([-1.0, 0.0])
    row0 = s0[0] * (_sig(-0.5) + _sig(0.25)) + s0[1] * (_sig(1.0) + _sig(4.0))
    row1 = s1[0] * (_sig(-1.0) + _sig(1.0)) + s1[1] * (_sig(0.0) + _sig(0.0))
    assert TOP1MaxLoss()(_in()).loss.item() == pytest.approx((row0 + row1) / 2)


def test_bpr_max_with_score_regularisation() -> None:
    s0, s1 = _softmax([0.5, 2.0]), _softmax([-1.0, 0.0])
    rank0 = -math.log(s0[0] * _sig(0.5) + s0[1] * _sig(-1.0))
    rank1 = -math.log(s1[0] * _sig(1.0) + s1[1] * _sig(0.0))
    reg0, reg1 = s0[0] * 0.25 + s0[1] * 4.0, s1[0] * 1.0
    want = (rank0 + rank1) / 2 + 0.5 * (reg0 + reg1) / 2
    assert BPRMaxLoss(bpreg=0.5)(_in()).loss.item() == pytest.approx(want)


def test_infonce_temperature_and_logq() -> None:
    tau = 0.5

    def row(pos: float, negs: list[float]) -> float:
        logits = [pos / tau, *negs]
        return math.log(sum(math.exp(x) for x in logits)) - pos / tau

    plain = (row(1.0, [1.0, 4.0]) + row(0.0, [-2.0, 0.0])) / 2
    assert InfoNCELoss(temperature=tau)(_in()).loss.item() == pytest.approx(plain)
    log_q = [[-1.0, -2.0], [-3.0, -0.5]]
    corrected = (row(1.0, [1.0 + 1.0, 4.0 + 2.0]) + row(0.0, [-2.0 + 3.0, 0.0 + 0.5])) / 2
    loss = InfoNCELoss(temperature=tau, logq_correction=True)
    assert loss(_in(log_q=log_q)).loss.item() == pytest.approx(corrected)


def test_mask_drops_negatives() -> None:
    masked = _in(mask=[[True, False], [True, True]])
    # triplet: row 0 keeps only 0.5 -> [1 - 1 + 0.5]+ = 0.5; row 1 as before: (0 + 1) / 2.
    assert TripletLoss()(masked).loss.item() == pytest.approx((0.5 + 0.5) / 2)
    # InfoNCE (τ=1): row 0 softmax over [1, 0.5] only.
    row0 = math.log(math.exp(1.0) + math.exp(0.5)) - 1.0
    row1 = math.log(1 + math.exp(-1.0) + 1) - 0.0
    assert InfoNCELoss(temperature=1.0)(masked).loss.item() == pytest.approx((row0 + row1) / 2)


def test_learnable_temperature_learns() -> None:
    loss = InfoNCELoss(temperature=1.0, learnable=True)
    assert [n for n, _ in loss.named_parameters()] == ["log_tau"]
    batch = _in()
    batch.pos.requires_grad_(False)
    loss(batch).loss.backward()
    assert loss.log_tau.grad is not None and loss.log_tau.grad.item() != 0.0


@pytest.mark.parametrize("bad", [{"temperature": 0.0}, {"temperature": -1.0}])
def test_temperature_must_be_positive(bad: dict) -> None:
    with pytest.raises(ValueError, match="temperature"):
        InfoNCELoss(**bad)


@pytest.mark.parametrize("name", load_registry().names("loss"))
def test_gradcheck_every_loss(name: str) -> None:
    loss = load_registry().create("loss", name).double()
    loss.setup(DataInfo(3, 20, np.ones(20, dtype=np.int64)))
    torch.manual_seed(0)
    pos = torch.randn(3, dtype=torch.float64, requires_grad=True)
    neg = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    q = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)

    def f(pos, neg, q):
        # l2-style scores (negative) keep CML/WARP hinges away from their kinks.
        return loss(LossInput(-pos.abs() - 0.1, -neg.abs() - 2.0, torch.full((3, 4), -2.0,
                              dtype=torch.float64), q, q)).loss

    assert torch.autograd.gradcheck(f, (pos, neg, q))


def test_mse_with_ratings_and_negatives() -> None:
    from raytrec.losses.mse import MSELoss

    batch = _in()
    batch.rating = torch.tensor([4.0, 2.0], dtype=torch.float64)
    # (4 - 1)² = 9, (2 - 0)² = 4 -> 6.5; negatives: mean(0.25, 4) = 2.125, mean(1, 0) = 0.5.
    assert MSELoss()(batch).loss.item() == pytest.approx(6.5)
    want = 6.5 + 0.1 * (2.125 + 0.5) / 2
    assert MSELoss(negative_weight=0.1)(batch).loss.item() == pytest.approx(want)
    batch.rating = None  # implicit data: positives target 1
    assert MSELoss()(batch).loss.item() == pytest.approx((0.0 + 1.0) / 2)


def test_infonce_corrects_the_positive_when_the_sampler_reports_its_log_q() -> None:
    batch = _in(log_q=[[-1.0, -2.0], [-3.0, -0.5]])
    batch.pos_log_q = torch.tensor([-1.5, -0.5], dtype=torch.float64)

    def row(pos: float, negs: list[float]) -> float:
        logits = [pos, *negs]
        return math.log(sum(math.exp(x) for x in logits)) - pos

    want = (row(1.0 + 1.5, [0.5 + 1.0, 2.0 + 2.0]) + row(0.0 + 0.5, [-1.0 + 3.0, 0.0 + 0.5])) / 2
    loss = InfoNCELoss(temperature=1.0, logq_correction=True)
    assert loss(batch).loss.item() == pytest.approx(want)
