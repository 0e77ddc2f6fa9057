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


def _mapper(dropout: float = 0.1) -> TwoTowerMapper:
    torch.manual_seed(0)
    mapper = TwoTowerMapper(dim=8, user_features={"numeric": ["age"], "categorical": ["job"]},
                            item_features={"multi_hot": ["genres"]}, id_dim=4, hidden=[16],
                            dropout=dropout)
    mapper.setup(_info())
    return mapper.eval()


def test_outputs_are_unit_vectors_of_the_right_shape() -> None:
    mapper = _mapper()
    out = mapper(torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([[0, 1, 4], [2, 3, 4]]))
    q, p, n = out.query, out.item, out.negatives
    assert q.shape == (2, 8) and p.shape == (2, 8) and n.shape == (2, 3, 8)
    assert out.item_features is None
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


def _batch_norms(mapper: TwoTowerMapper) -> list[torch.nn.BatchNorm1d]:
    return [m for m in mapper.modules() if isinstance(m, torch.nn.BatchNorm1d)]


def test_positives_and_negatives_share_one_pass_of_the_item_tower() -> None:
    """One call, one set of batch statistics: a negative equal to a positive gets its vector."""
    mapper = _mapper(dropout=0.0).train()
    calls = []
    mapper.item_tower.register_forward_hook(lambda *a: calls.append(1))
    pos, neg = torch.tensor([2, 3]), torch.tensor([[2, 1, 4], [3, 0, 4]])
    out = mapper(torch.tensor([0, 1]), pos, neg)
    p, n = out.item, out.negatives
    assert len(calls) == 1
    torch.testing.assert_close(n[0, 0], p[0])
    torch.testing.assert_close(n[1, 0], p[1])


def test_scores_are_not_taken_without_gradient_from_a_stochastic_tower() -> None:
    from raytrec.mappers.embedding import EmbeddingMapper
    from raytrec.mappers.feature_mlp import FeatureMLPMapper

    assert not _mapper().deterministic_scores()  # batch norm, dropout
    assert EmbeddingMapper(dim=4).deterministic_scores()
    assert FeatureMLPMapper(dim=4, item_features={"multi_hot": ["genres"]}) \
        .deterministic_scores()  # its dropout only feeds the feature loss


def test_the_selecting_step_gives_the_full_forwards_loss() -> None:
    """WARP selects the hardest negative: for the two-tower the step must score every
    candidate in the differentiable forward (same vectors for selection and gradient)."""
    from raytrec.distance import candidate_scores, pair_scores
    from raytrec.losses.base import LossInput
    from raytrec.losses.warp import WARPLoss
    from raytrec.samplers.uniform import UniformSampler
    from raytrec.tasks.user_item.step import loss_of_batch

    info = _info()
    mapper = _mapper().train()
    loss = WARPLoss()
    loss.setup(info)
    sampler = UniformSampler(num_negatives=4)
    sampler.setup(info)
    users, items = torch.tensor([0, 1, 2, 0]), torch.tensor([0, 2, 3, 1])
    torch.manual_seed(5)
    stepped = loss_of_batch(mapper, mapper, sampler, loss, users, items,
                            torch.Generator().manual_seed(1)).loss
    torch.manual_seed(5)
    neg = sampler.sample(users, items, torch.Generator().manual_seed(1))
    out = mapper(users, items, neg.ids)
    q, p, n = out.query, out.item, out.negatives
    full = loss(LossInput(pair_scores(mapper.distance, q, p),
                          candidate_scores(mapper.distance, q, n), neg.log_q, q, p)).loss
    torch.testing.assert_close(stepped, full)


def test_hard_sampler_scores_in_inference_mode() -> None:
    from raytrec.samplers.hard import HardSampler

    info = _info()
    mapper = _mapper().train()
    before = [bn.running_mean.clone() for bn in _batch_norms(mapper)]
    sampler = HardSampler(num_candidates=4, num_negatives=2)
    sampler.setup(info)
    sampler.attach(mapper)
    sampler.sample(torch.tensor([0, 1, 2]), torch.tensor([0, 2, 3]),
                   torch.Generator().manual_seed(0))
    assert mapper.training
    assert all(torch.equal(bn.running_mean, b) for bn, b in zip(_batch_norms(mapper), before,
                                                                 strict=True))


def test_a_new_user_is_served_from_features_as_a_cold_user_of_the_data_is() -> None:
    mapper = _mapper()
    table = _info().user_features
    with torch.no_grad():
        cold = mapper.queries(torch.tensor([3]))  # no training rows: mean ID + features
        new = mapper.new_user_queries(table.iloc[[3, 1]].reset_index(drop=True))
    # Encoded with the training rows' vocabulary and statistics ('c' is unknown to both).
    torch.testing.assert_close(new[:1], cold)
    assert not torch.allclose(new[1], cold[0]), "other features, another vector"


def test_a_mapper_without_user_features_cannot_serve_new_users() -> None:
    import pytest

    mapper = TwoTowerMapper(dim=8, item_features={"multi_hot": ["genres"]}, id_dim=4)
    mapper.setup(_info())
    with pytest.raises(ValueError, match="reads no user features"):
        mapper.new_user_queries(_info().user_features)


def test_data_derived_tensors_follow_the_module_but_stay_out_of_checkpoints() -> None:
    mapper = _mapper()
    keys = set(mapper.state_dict())
    assert not any("seen" in k or ".table_" in k for k in keys)
    derived = {n for n, _ in mapper.named_buffers() if "seen" in n or ".table_" in n}
    assert {"user_tower.seen", "user_tower.seen_weights", "item_tower.seen",
            "user_tower.encoder.table_categorical", "item_tower.encoder.table_multi_hot_0"
            } <= derived
    mapper.to(torch.device("meta"))
    assert all(b.device.type == "meta" for _, b in mapper.named_buffers())
    assert set(mapper.state_dict()) == keys
