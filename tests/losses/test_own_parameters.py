"""A loss's own parameters (InfoNCE's temperature) are optimised but never weight-decayed."""

from __future__ import annotations

import pytest
import torch

from raytrec.config import validate, with_defaults
from raytrec.losses.infonce import InfoNCELoss
from raytrec.mappers.embedding import EmbeddingMapper
from raytrec.plugins import get_registry
from raytrec.testing.common import tiny_info
from raytrec.train.optim import build_optimizer


@pytest.mark.parametrize("sparse", [False, True])
def test_weight_decay_leaves_the_losss_own_parameters_alone(sparse: bool) -> None:
    mapper = EmbeddingMapper(dim=2)
    mapper.setup(tiny_info(num_users=4, num_items=4))
    with torch.no_grad():
        mapper.item_emb.fill_(1.0)
    table = mapper.item_emb
    loss = InfoNCELoss(temperature=0.5, learnable=True)
    own = list(loss.parameters())
    assert own, "InfoNCE with a learnable temperature has a parameter"
    before = [p.detach().clone() for p in own]
    config = validate(with_defaults({"train": {"optimizer": "sgd", "lr": 0.1,
                                               "weight_decay": 0.5, "sparse": sparse}}),
                      get_registry())
    optimizer = build_optimizer(config, mapper, own)
    if sparse:  # every row touched, with a zero gradient
        mapper.items(torch.arange(4)).sum().mul(0).backward()
    for p in own if sparse else [table, *own]:
        p.grad = torch.zeros_like(p)
    optimizer.step()
    assert torch.allclose(table, torch.full((4, 2), 0.95))  # decayed: 1 - 0.1 * 0.5
    assert all(torch.equal(p, b) for p, b in zip(own, before, strict=True))
