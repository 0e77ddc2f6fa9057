"""Two-tower mapper: features feed the towers, cold rows are served from features alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from raytrec.data.base import DataInfo
from raytrec.data.store import UserItems
from raytrec.mappers.two_tower import TwoTowerMapper


def _info() -> DataInfo:
    positives = UserItems.from_pairs(np.array([0, 0, 1, 2]), np.array([0, 1, 2, 3]), 4)
    info = DataInfo(4, 5, np.array([1, 1, 1, 1, 0]), positives=positives)  # user 3, item 4 cold
    info.user_features = pd.DataFrame({"age": [20.0, 30.0, 40.0, 50.0],
                                       "job": ["a", "b", "a", "c"]})
    info.item_features = pd.DataFrame({"genres": [["x"], ["y"], ["x", "y"], [], ["x"]]})
    return info


def _mapper() -> TwoTowerMapper:
    torch.manual_seed(0)
    mapper = TwoTowerMapper(dim=8, user_features={"numeric": ["age"], "categorical": ["job"]},
                            item_features={"multi_hot": ["genres"]}, id_dim=4, hidden=[16])
    mapper.setup(_info())
    return mapper.eval()


def test_outputs_are_unit_vectors_of_the_right_shape() -> None:
    mapper = _mapper()
    q, p, n, extras = mapper(torch.tensor([0, 1]), torch.tensor([2, 3]),
                             torch.tensor([[0, 1, 4], [2, 3, 4]]))
    assert q.shape == (2, 8) and p.shape == (2, 8) and n.shape == (2, 3, 8) and extras == {}
    torch.testing.assert_close(n.norm(dim=-1), torch.ones(2, 3))


def test_cold_user_is_served_with_the_mean_id_embedding() -> None:
    mapper = _mapper()
    tower = mapper.user_tower
    with torch.no_grad():
        got = mapper.queries(torch.tensor([3]))
        mean = tower.ids.weight[:3].mean(0, keepdim=True)
        want = tower.net(torch.cat([mean, tower.encoder(torch.tensor([3]))], dim=1))
    torch.testing.assert_close(got, torch.nn.functional.normalize(want, dim=1))
    # A warm user keeps its own ID embedding.
    with torch.no_grad():
        tower.ids.weight[0] += 1.0
    assert not torch.allclose(mapper.queries(torch.tensor([0])), got)


def test_id_dropout_replaces_ids_in_training_only() -> None:
    mapper = _mapper()
    mapper.user_tower.id_dropout = 0.999
    mapper.train()
    torch.manual_seed(0)
    mapper.queries(torch.tensor([0, 1])).pow(2).sum().backward()
    grad = mapper.user_tower.ids.weight.grad
    # Both rows were served the mean of the 3 warm rows: the gradient is spread over them
    # equally, and the cold row 3 (not in the mean) gets none.
    torch.testing.assert_close(grad[0], grad[2])
    torch.testing.assert_close(grad[1], grad[2])
    assert grad[3].abs().sum() == 0 and grad[0].abs().sum() > 0
