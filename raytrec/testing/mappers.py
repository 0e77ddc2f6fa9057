"""``check_mapper``: shapes, optional outputs, scoring, determinism claims, pickling,
devices."""

from __future__ import annotations

from typing import Any

import torch

from raytrec.distance import DISTANCES, candidate_scores
from raytrec.mappers.base import Mapper, MapperOutput
from raytrec.testing.common import (
    ConformanceError,
    build,
    check_pickles,
    fail_unless,
    tiny_info,
)
from raytrec.testing.devices import check_moves


def check_mapper(cls: type[Mapper], **kwargs: Any) -> None:
    """Check a mapper class of the user-item task (a ``raytrec.mappers.Mapper``) built with
    ``kwargs`` (its config arguments). A mapper of another task is checked in that task by
    ``check_training(cls, companions={"task": ...})``."""
    if not (isinstance(cls, type) and issubclass(cls, Mapper)):
        raise ConformanceError(
            f"{getattr(cls, '__name__', cls)}: check_mapper checks mappers of the user-item "
            "task (subclasses of raytrec.mappers.Mapper); check a model of another task with "
            "check_training(cls, companions={'task': {'name': ...}, 'data': ...})")
    mapper = build(cls, kwargs, "mapper")
    fail_unless(mapper.distance in DISTANCES, mapper, f"distance must be one of {DISTANCES}")
    info = tiny_info()
    mapper.setup(info)
    users, pos = torch.tensor([0, 3, 5]), torch.tensor([1, 2, 7])
    for neg in (torch.tensor([[4, 5], [6, 7], [8, 9]]), torch.tensor([4, 5, 6, 7])):
        out = mapper(users, pos, neg)
        fail_unless(isinstance(out, MapperOutput), mapper,
                    f"forward must return raytrec.mappers.MapperOutput, got {type(out).__name__}")
        q, p, n = out.query, out.item, out.negatives
        fail_unless(q.shape == p.shape == (3, mapper.dim), mapper,
                    f"queries and positives must be (B, dim={mapper.dim})")
        fail_unless(n.shape == (*neg.shape, mapper.dim), mapper,
                    f"negatives of shape {tuple(neg.shape)} must map to "
                    f"{(*neg.shape, mapper.dim)}, got {tuple(n.shape)}")
        filled = {"item_features"} if out.item_features is not None else set()
        fail_unless(filled == set(mapper.provides), mapper,
                    f"forward filled {sorted(filled)} of the optional fields, but provides "
                    f"says {sorted(mapper.provides)}: they must agree")
        if out.item_features is not None:
            fail_unless(out.item_features.shape == (3, mapper.dim), mapper,
                        f"item_features must be (B, dim={mapper.dim})")
    mapper.eval()
    fail_unless(tuple(mapper.all_items().shape) == (info.num_items, mapper.dim), mapper,
                "all_items must be (num_items, dim)")
    q = mapper.queries(users)
    scores = mapper.score_candidates(q, torch.tensor([[4, 5], [6, 7], [8, 9]]))
    expected = candidate_scores(mapper.distance, q, mapper.items(torch.tensor([[4, 5], [6, 7],
                                                                             [8, 9]])))
    fail_unless(torch.allclose(scores, expected, atol=1e-5), mapper,
                "score_candidates must score in the mapper's distance (-d² for l2)")
    mapper.train()
    _check_determinism_claim(mapper, users)
    _check_id_tables(mapper, users, pos)
    copy = check_pickles(mapper)
    copy.eval()
    mapper.eval()
    fail_unless(torch.allclose(copy.queries(users), mapper.queries(users)), mapper,
                "an unpickled copy must map as the original")
    check_moves(mapper, "keep tensors as parameters or buffers (register_buffer(name, t, "
                "persistent=False) for what setup derives from the data); never move state "
                "inside forward")


def _check_id_tables(mapper: Mapper, users: torch.Tensor, pos: torch.Tensor) -> None:
    """Row-sparse, a forward gives each listed ID table a sparse gradient over rows."""
    try:
        tables = mapper.use_row_sparse(mapper.id_tables)
    except ValueError as exc:
        fail_unless(False, mapper, str(exc))
    neg = torch.tensor([[4, 5], [6, 7], [8, 9]])
    claimed = mapper.step_rows(users, torch.cat([pos, neg.reshape(-1)]))
    unknown = sorted(set(claimed) - set(mapper.id_tables))
    fail_unless(not unknown, mapper, f"step_rows names {unknown}, which id_tables does not "
                "list: it may name ID tables only")
    try:
        mapper.zero_grad(set_to_none=True)
        out = mapper(users, pos, neg)
        (out.query.sum() + out.item.sum() + out.negatives.sum()).backward()
        for name, table in tables.items():
            fail_unless(table.grad is None or table.grad.is_sparse, mapper,
                        f"ID table {name!r} got a dense gradient: read it with "
                        "self.lookup(table, ids) or an nn.Embedding, and detach any whole-"
                        "table use when the table is in self.row_sparse")
            if name in claimed and table.grad is not None:
                read = table.grad.coalesce().indices()[0]
                fail_unless(bool(torch.isin(read, claimed[name].reshape(-1)).all()), mapper,
                            f"step_rows()[{name!r}] misses rows of the table that the "
                            "forward reads: give the ids queries(users) and items(items) "
                            "look up in it")
    finally:
        mapper.use_row_sparse(())
        mapper.zero_grad(set_to_none=True)


def _check_determinism_claim(mapper: Mapper, users: torch.Tensor) -> None:
    """A mapper that says its scores are deterministic gets candidates scored without
    gradient: it must give the same vectors twice and move no buffer."""
    if not mapper.deterministic_scores():
        return
    buffers = [b.clone() for b in mapper.buffers()]
    torch.manual_seed(0)
    first = mapper.queries(users), mapper.items(torch.arange(10))
    torch.manual_seed(1)
    second = mapper.queries(users), mapper.items(torch.arange(10))
    same = all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    fail_unless(same and all(torch.equal(a, b) for a, b in zip(buffers, mapper.buffers(),
                                                                strict=True)),
                mapper, "deterministic_scores() is True but queries/items vary between calls "
                "in train mode or change buffers: return False (or remove the randomness)")
