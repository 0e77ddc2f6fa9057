"""Row-sparse ID tables (``train.sparse``): what each optimiser does to the rows a step
touches and to the others, the constraint on touched rows, and checkpoints across the switch."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch

from raytrec.config import validate, with_defaults
from raytrec.plugins import get_registry
from raytrec.testing.common import tiny_info
from raytrec.train.optim import RunOptimizer, build_optimizer, sparse_tables
from raytrec.train.parts import Parts, build_parts
from raytrec.train.step import train_step

B, N = 16, 4


def _parts(optimizer: str = "adagrad", sparse: bool | str = "auto", **train: Any) -> tuple:
    raw = {"mapper": {"name": "embedding", "dim": 8, "distance": "l2", "max_norm": 1.0},
           "sampler": {"name": "uniform", "num_negatives": N},
           "loss": {"name": "cml", "lambda_c": 1.0},
           "train": {"optimizer": optimizer, "lr": 0.2, "sparse": sparse, "batch_size": B,
                     **train}}
    config = validate(with_defaults(raw), get_registry())
    torch.manual_seed(0)
    parts = build_parts(config, tiny_info(num_users=40, num_items=500))
    return config, parts


def _steps(parts: Parts, optimizer: RunOptimizer, steps: int, seed: int = 1) -> None:
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        users = torch.randint(40, (B,), generator=gen)
        items = torch.randint(500, (B,), generator=gen)
        train_step(parts.mapper, parts.mapper, parts.sampler, parts.loss, optimizer, users,
                   items, gen)


@pytest.mark.parametrize("name", ["adagrad", "sgd"])
def test_sparse_adagrad_and_sgd_are_their_dense_forms(name: str) -> None:
    """Without weight decay an untouched row's dense update is zero: the same parameters."""
    dense_config, dense = _parts(name, sparse=False)
    sparse_config, sparse = _parts(name, sparse=True)
    dense_opt = build_optimizer(dense_config, dense.mapper)
    sparse_opt = build_optimizer(sparse_config, sparse.mapper)
    assert not dense_opt.tables and set(sparse_opt.tables) == {"user_emb", "item_emb"}
    _steps(dense, dense_opt, 5)
    _steps(sparse, sparse_opt, 5)
    for name_, value in dense.mapper.state_dict().items():
        assert torch.allclose(sparse.mapper.state_dict()[name_], value, atol=1e-6), name_


def test_a_dense_table_beside_a_row_sparse_one_is_kept_in_the_unit_ball() -> None:
    """``auto`` with 100 positives per batch: 500 items row-sparse, 40 users dense. The dense
    table is constrained whole, as without row-sparse tables: the same parameters."""
    dense_config, dense = _parts(sparse=False, batch_size=100)
    mixed_config, mixed = _parts(sparse="auto", batch_size=100)
    dense_opt = build_optimizer(dense_config, dense.mapper)
    mixed_opt = build_optimizer(mixed_config, mixed.mapper)
    assert set(mixed_opt.tables) == {"item_emb"}
    _steps(dense, dense_opt, 8)
    _steps(mixed, mixed_opt, 8)
    assert float(mixed.mapper.user_emb.detach().norm(dim=1).max()) <= 1.0 + 1e-5
    for name_, value in dense.mapper.state_dict().items():
        assert torch.allclose(mixed.mapper.state_dict()[name_], value, atol=1e-6), name_


@pytest.mark.parametrize(("sparse", "batch", "expected"), [
    ("auto", 16, {"user_emb", "item_emb"}), ("auto", 100, {"item_emb"}),
    ("auto", 500, set()), (True, 500, {"user_emb", "item_emb"}), (False, 16, set())])
def test_which_tables_are_row_sparse(sparse, batch: int, expected: set[str]) -> None:
    """``auto``: the tables with more rows than a batch has positives (40 users, 500 items)."""
    config, parts = _parts(sparse=sparse, batch_size=batch)
    optimizer = build_optimizer(config, parts.mapper)
    assert set(optimizer.tables) == expected == set(parts.mapper.row_sparse)
    parts.mapper.items(torch.tensor([1, 2])).sum().backward()
    assert parts.mapper.item_emb.grad.is_sparse == ("item_emb" in expected)


def test_more_workers_raise_the_bar_for_row_sparse_tables() -> None:
    """With 2 workers a 100-row batch makes only tables above 200 rows row-sparse."""
    config, parts = _parts(sparse="auto", batch_size=100)
    assert sparse_tables(config, parts.mapper, world_size=1) == ("item_emb",)
    assert sparse_tables(config, parts.mapper, world_size=2) == ("item_emb",)
    config, parts = _parts(sparse="auto", batch_size=300)
    assert sparse_tables(config, parts.mapper, world_size=1) == ("item_emb",)
    assert sparse_tables(config, parts.mapper, world_size=2) == ()


@pytest.mark.parametrize("name", ["adagrad", "adam", "sgd"])
def test_a_step_leaves_untouched_rows_alone(name: str) -> None:
    config, parts = _parts(name, weight_decay=0.1)
    optimizer = build_optimizer(config, parts.mapper)
    _steps(parts, optimizer, 2)  # moments and accumulators of some rows are non-zero now
    before = parts.mapper.item_emb.detach().clone()
    optimizer.zero_grad()
    parts.mapper.items(torch.tensor([3, 7, 7])).pow(2).sum().backward()
    touched = optimizer.step()
    assert touched is not None and touched["item_emb"].tolist() == [3, 7]
    moved = (parts.mapper.item_emb.detach() != before).any(1).nonzero().flatten().tolist()
    assert moved == [3, 7]


def test_touched_rows_are_kept_in_the_unit_ball() -> None:
    config, parts = _parts("adagrad")
    optimizer = build_optimizer(config, parts.mapper)
    with torch.no_grad():
        parts.mapper.item_emb[10] = 0.0  # far from any row the steps will push out
    _steps(parts, optimizer, 8)
    for table in (parts.mapper.user_emb, parts.mapper.item_emb):
        assert float(table.detach().norm(dim=1).max()) <= 1.0 + 1e-5
    assert float(parts.mapper.item_emb.detach()[10].norm()) < 1.0


def test_weight_decay_shrinks_only_the_touched_rows() -> None:
    config, parts = _parts("sgd", weight_decay=0.5)
    optimizer = build_optimizer(config, parts.mapper)
    table = parts.mapper.item_emb
    before = table.detach().clone()
    optimizer.zero_grad()
    parts.mapper.items(torch.tensor([5])).sum().mul(0.0).backward()
    optimizer.step()
    assert torch.allclose(table[5], before[5] * (1 - 0.2 * 0.5))
    assert torch.equal(table[6], before[6])


def test_an_id_table_read_other_than_by_row_is_refused_by_name() -> None:
    config, parts = _parts("adagrad")
    optimizer = build_optimizer(config, parts.mapper)
    optimizer.zero_grad()
    (parts.mapper.item_emb.sum() + parts.mapper.queries(torch.tensor([0])).sum()).backward()
    with pytest.raises(RuntimeError, match="ID table 'item_emb' got a dense gradient"):
        optimizer.step()


@pytest.mark.parametrize("name", ["adagrad", "adam"])
def test_a_dense_optimizers_state_resumes_row_sparse(name: str) -> None:
    """A checkpoint written with whole-table optimiser state (``train.sparse: false``, or
    before it existed) continues under the row-sparse form with the same accumulators."""
    dense_config, dense = _parts(name, sparse=False)
    dense_opt = build_optimizer(dense_config, dense.mapper)
    _steps(dense, dense_opt, 3)
    saved_model = copy.deepcopy(dense.mapper.state_dict())
    saved = copy.deepcopy(dense_opt.state_dict())
    sparse_config, sparse = _parts(name, sparse=True)
    sparse.mapper.load_state_dict(saved_model)
    sparse_opt = build_optimizer(sparse_config, sparse.mapper)
    sparse_opt.load_state_dict(saved)
    key = "sum" if name == "adagrad" else "exp_avg_sq"
    assert torch.equal(sparse_opt.sparse.state[sparse.mapper.item_emb][key],
                       dense_opt.dense.state[dense.mapper.item_emb][key])
    _steps(dense, dense_opt, 2, seed=9)
    _steps(sparse, sparse_opt, 2, seed=9)
    if name == "adagrad":  # Adam's lazy moments differ from dense ones by design
        assert torch.allclose(sparse.mapper.item_emb, dense.mapper.item_emb, atol=1e-6)
    # And back: the row-sparse state loads into the dense form.
    back_config, back = _parts(name, sparse=False)
    back_opt = build_optimizer(back_config, back.mapper)
    back_opt.load_state_dict(sparse_opt.state_dict())
    assert torch.equal(back_opt.dense.state[back.mapper.item_emb][key],
                       sparse_opt.sparse.state[sparse.mapper.item_emb][key])


def test_a_torch_optimizer_state_from_before_loads() -> None:
    """Checkpoints of earlier versions hold one torch optimiser's state_dict."""
    _, parts = _parts("adagrad", sparse=False)
    old = torch.optim.Adagrad(list(parts.mapper.parameters()), lr=0.2)
    for p in parts.mapper.parameters():
        p.grad = torch.ones_like(p)
    old.step()
    fresh_config, fresh = _parts("adagrad")
    optimizer = build_optimizer(fresh_config, fresh.mapper)
    optimizer.load_state_dict(old.state_dict())
    assert torch.equal(optimizer.sparse.state[fresh.mapper.user_emb]["sum"],
                       torch.ones_like(fresh.mapper.user_emb))

