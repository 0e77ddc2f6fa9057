"""A loss's own parameters (InfoNCE's temperature) are optimised but never weight-decayed."""

from __future__ import annotations

import torch

from raytrec.losses.infonce import InfoNCELoss
from raytrec.train.build import build_optimizer


def test_weight_decay_leaves_the_losss_own_parameters_alone() -> None:
    table = torch.nn.Parameter(torch.ones(4, 2))
    loss = InfoNCELoss(temperature=0.5, learnable=True)
    own = list(loss.parameters())
    assert own, "InfoNCE with a learnable temperature has a parameter"
    before = [p.detach().clone() for p in own]
    config = {"train": {"optimizer": "sgd", "lr": 0.1, "weight_decay": 0.5}}
    optimizer = build_optimizer(config, [table], own)
    for p in [table, *own]:
        p.grad = torch.zeros_like(p)
    optimizer.step()
    assert torch.allclose(table, torch.full((4, 2), 0.95))  # decayed: 1 - 0.1 * 0.5
    assert all(torch.equal(p, b) for p, b in zip(own, before, strict=True))
