"""Next-item ranks: strictly higher items plus one; ties against the target when
conservative."""

from __future__ import annotations

import pytest
import torch
from raytrec_gru4rec.ranks import RankMetrics, target_ranks


def test_ranks_count_strictly_higher_items_and_ties_when_conservative() -> None:
    scores = torch.tensor([[0.1, 0.5, 0.5, 0.9], [1.0, 0.0, 0.0, 0.0]])
    targets = torch.tensor([1, 1])
    assert target_ranks(scores, targets).tolist() == [2, 2]
    assert target_ranks(scores, targets, conservative=True).tolist() == [3, 4]


def test_recall_and_mrr_at_k() -> None:
    metrics = RankMetrics([1, 3])
    metrics.add(torch.tensor([1, 2, 5, 3]))
    got = metrics.means()
    assert got["events"] == 4
    assert got["recall@1"] == pytest.approx(0.25) and got["recall@3"] == pytest.approx(0.75)
    assert got["mrr@3"] == pytest.approx((1 + 1 / 2 + 1 / 3) / 4)
