"""Every registered component, built-in or plugin, honours its kind's contract."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
import torch

from raytrec.data.base import DataInfo
from raytrec.losses.base import LossInput
from raytrec.plugins import load_registry

REGISTRY = load_registry()
INFO = DataInfo(num_users=12, num_items=300,
                item_counts=np.random.default_rng(0).integers(0, 9, 300), num_train=200)
_rng = np.random.default_rng(1)
INFO.item_features = pd.DataFrame({
    "genres": [list(_rng.choice(["a", "b", "c"], _rng.integers(0, 3))) for _ in range(300)],
    "year": _rng.normal(1990, 10, 300),
    "studio": _rng.choice(["x", "y"], 300),
})
INFO.user_features = pd.DataFrame({"age": _rng.integers(18, 70, 12).astype(float),
                                   "occupation": _rng.choice(["p", "q"], 12)})
# Arguments a component cannot do without, for the components that have any.
REQUIRED_ARGS = {
    ("mapper", "feature-mlp"): {"item_features": {"multi_hot": ["genres"], "numeric": ["year"],
                                                  "categorical": ["studio"]}},
}


def create(kind: str, name: str):
    return REGISTRY.create(kind, name, **REQUIRED_ARGS.get((kind, name), {}))


@pytest.mark.parametrize("name", REGISTRY.names("sampler"))
def test_sampler(name: str) -> None:
    sampler = REGISTRY.create("sampler", name)
    sampler.setup(INFO)
    mapper = REGISTRY.create("mapper", "embedding", dim=4)
    mapper.setup(INFO)
    sampler.attach(mapper)
    users = torch.arange(8) % INFO.num_users
    neg = sampler.sample(users, users, torch.Generator().manual_seed(0))
    assert neg.ids.dtype == torch.int64 and neg.ids.shape == neg.log_q.shape
    assert neg.ids.shape[0] in (8, sampler.num_negatives, 8 + sampler.num_negatives)
    if neg.mask is not None:
        assert neg.mask.dtype == torch.bool and neg.mask.shape == (8, neg.ids.shape[-1])
    assert int(neg.ids.min()) >= 0 and int(neg.ids.max()) < INFO.num_items
    assert bool((neg.log_q <= 0).all())


@pytest.mark.parametrize("name", REGISTRY.names("mapper"))
def test_mapper(name: str) -> None:
    mapper = create("mapper", name)
    mapper.setup(INFO)
    neg = torch.tensor([[4, 5, 6], [7, 8, 9]])
    q, p, n, extras = mapper(torch.tensor([0, 3]), torch.tensor([1, 2]), neg)
    assert set(extras) == set(mapper.provides)
    assert q.shape == p.shape == (2, mapper.dim) and n.shape == (2, 3, mapper.dim)
    assert mapper.all_items().shape == (INFO.num_items, mapper.dim)
    scores = mapper.score_candidates(q, torch.tensor([[4, 5, 6], [7, 8, 9]]))
    assert scores.shape == (2, 3)


@pytest.mark.parametrize("name", REGISTRY.names("loss"))
def test_loss(name: str) -> None:
    loss = REGISTRY.create("loss", name)
    loss.setup(INFO)
    pos = torch.randn(6, requires_grad=True)
    neg = torch.randn(6, 5, requires_grad=True)
    vec = torch.randn(6, 4, requires_grad=True)
    out = loss(LossInput(-pos.abs(), -neg.abs(), torch.full((6, 5), -3.0), vec, vec))
    assert out.loss.dim() == 0 and torch.isfinite(out.loss)
    out.loss.backward()
    assert pos.grad is not None and (neg.grad is not None or not loss.uses_negatives)
    assert all(v.dim() == 0 for v in out.parts.values())


@pytest.mark.parametrize("name", REGISTRY.names("retriever"))
@pytest.mark.parametrize("metric", ["dot", "l2", "cosine"])
def test_retriever(name: str, metric: str) -> None:
    retriever = REGISTRY.create("retriever", name)
    items = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    retriever.build(items, metric)
    scores, ids = retriever.search(items[:3], 5)
    assert ids.shape == scores.shape == (3, 5)
    assert bool((np.diff(scores, axis=1) <= 1e-5).all())  # best first


@pytest.mark.parametrize("name", REGISTRY.names("dataset"))
def test_dataset_constructor_does_no_io(name: str, tmp_path) -> None:
    cls = REGISTRY.get("dataset", name)
    params = inspect.signature(cls.__init__).parameters
    needed = [n for n, p in params.items() if n != "self" and p.default is p.empty]
    if "path" in params:
        needed.append("path")
    kwargs = {n: str(tmp_path / "nowhere") for n in needed}
    cls(**kwargs)  # must not touch the missing path until load()
