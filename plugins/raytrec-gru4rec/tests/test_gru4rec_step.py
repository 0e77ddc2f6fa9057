"""One session-parallel step through raytrec's mixed sampler and GRU4Rec's losses."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from raytrec_gru4rec.batches import SessionParallel
from raytrec_gru4rec.gru import GRU4RecNetwork
from raytrec_gru4rec.sessions import Sessions
from raytrec_gru4rec.step import session_loss

from raytrec.data.base import DataInfo
from raytrec.losses.bpr_max import BPRMaxLoss
from raytrec.losses.infonce import InfoNCELoss
from raytrec.losses.top1 import TOP1Loss
from raytrec.samplers.mixed import MixedSampler

ITEMS = 30


def cyclic_sessions(n: int, length: int, seed: int = 0) -> Sessions:
    """Sessions walking the catalogue in steps of 1: the next item is always current + 1."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, ITEMS, n)
    items = ((starts[:, None] + np.arange(length)[None, :]) % ITEMS).reshape(-1)
    offsets = np.arange(0, n * length + 1, length, dtype=np.int64)
    return Sessions(offsets, items.astype(np.int64), np.arange(len(items), dtype=float))


def info(data: Sessions) -> DataInfo:
    counts = np.bincount(data.items, minlength=ITEMS).astype(np.int64)
    return DataInfo(num_users=len(data), num_items=ITEMS, item_counts=counts)


@pytest.mark.parametrize("loss", [TOP1Loss(), BPRMaxLoss(), InfoNCELoss(1.0, logq_correction=True)],
                         ids=["top1", "bpr-max", "infonce"])
def test_a_gru_learns_a_next_item_rule(loss: torch.nn.Module) -> None:
    torch.manual_seed(0)
    data = cyclic_sessions(120, 6)
    sampler = MixedSampler(num_negatives=8, alpha=0.5)
    sampler.setup(info(data))
    network = GRU4RecNetwork(ITEMS, [32], embedding=16)
    optimizer = torch.optim.Adam(network.parameters(), lr=0.02)
    batches = SessionParallel(data, 16)
    generator = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    hidden = network.initial_hidden(16, torch.device("cpu"))
    for _ in range(4):
        for step in batches.epoch(rng):
            optimizer.zero_grad()
            out, hidden = session_loss(network, sampler, loss, torch.from_numpy(step.inputs),
                                       torch.from_numpy(step.targets),
                                       torch.from_numpy(step.reset), hidden, generator)
            out.loss.backward()
            optimizer.step()
            assert not any(h.requires_grad for h in hidden)
    network.eval()
    with torch.no_grad():
        query, _ = network.step(torch.arange(ITEMS), network.initial_hidden(ITEMS,
                                                                            torch.device("cpu")))
        top = (query @ network.items(torch.arange(ITEMS)).T).argmax(1)
    assert (top == (torch.arange(ITEMS) + 1) % ITEMS).float().mean() > 0.9
