"""The embedding mapper: fast candidate scoring equals the generic formula; unit-ball clip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from raytrec.data.base import DataInfo
from raytrec.distance import candidate_scores
from raytrec.mappers.embedding import EmbeddingMapper

INFO = DataInfo(5, 30, np.ones(30, dtype=np.int64))


@pytest.mark.parametrize("metric", ["l2", "dot", "cosine"])
@pytest.mark.parametrize("shape", [(4, 6), (6,), (1100, 3)])
def test_score_candidates_matches_generic_scores(metric: str, shape: tuple) -> None:
    torch.manual_seed(0)
    mapper = EmbeddingMapper(dim=8, distance=metric)
    mapper.setup(INFO)
    q = torch.randn(shape[0] if len(shape) == 2 else 4, 8)  # 1100 rows: several blocks
    ids = torch.randint(30, shape)
    want = candidate_scores(metric, q, mapper.item_emb[ids])
    torch.testing.assert_close(mapper.score_candidates(q, ids), want, atol=1e-5, rtol=1e-5)


def test_l2_scores_are_negative_squared_distances() -> None:
    q = torch.tensor([[1.0, 0.0]])
    v = torch.tensor([[[0.0, 1.0], [1.0, 1.0]]])
    assert candidate_scores("l2", q, v).tolist() == [[-2.0, -1.0]]


def test_unit_ball_clip_after_setup_and_constrain() -> None:
    mapper = EmbeddingMapper(dim=4, distance="l2", max_norm=1.0, init_std=5.0)
    mapper.setup(INFO)
    assert mapper.user_emb.norm(dim=1).max() <= 1.0 + 1e-5
    with torch.no_grad():
        mapper.item_emb[0] = torch.tensor([3.0, 4.0, 0.0, 0.0])
        mapper.item_emb[1] = torch.tensor([0.3, 0.4, 0.0, 0.0])
    mapper.constrain()
    torch.testing.assert_close(mapper.item_emb[0], torch.tensor([0.6, 0.8, 0.0, 0.0]), atol=1e-5,
                               rtol=1e-5)
    torch.testing.assert_close(mapper.item_emb[1], torch.tensor([0.3, 0.4, 0.0, 0.0]))


def test_bad_arguments() -> None:
    for bad in ({"dim": 0}, {"distance": "manhattan"}, {"max_norm": 0.0}):
        with pytest.raises(ValueError):
            EmbeddingMapper(**bad)
