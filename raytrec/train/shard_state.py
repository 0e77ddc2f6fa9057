"""Checkpoints of a run whose ID tables are sharded by rows, and how they are read back by
any number of workers.

A checkpoint of a sharded run holds ``STATE_FILE`` (written by rank 0: everything but the
sharded tables' rows, plus a ``sharding`` entry naming them) and one ``SHARD_FILE`` per worker:
its rows of each sharded table, of the best model so far, and its optimiser state for them
(Ray Train merges every worker's files into one checkpoint directory). ``place`` reads such a
checkpoint, or one of whole tables, for a worker of any other number of workers: each reads
the shard files one at a time and keeps the rows it owns now (row ``i`` on worker ``i % W``),
so resuming 2 → 1, 1 → 2 or 2 → 4 continues the same model; without a placement (a reader
of the whole model: ``evaluate``, ``export``) it gets whole tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from raytrec.layout import SHARD_FILE
from raytrec.mappers import ItemModel

Placement = tuple[int, int]
"""(rank, world) of a worker holding its rows of the sharded tables."""


def split(state: dict[str, Any], mapper: ItemModel) -> tuple[dict[str, Any], dict[str, Any]]:
    """``state`` (the loop's checkpoint) without the sharded tables' rows, and this worker's
    rows of them: model, best model, optimiser state."""
    shards = mapper.shards
    order = table_order(mapper)
    main = dict(state, model=dict(state["model"]))
    mine: dict[str, Any] = {"model": {}, "best": {}, "optimizer": {}}
    for name in shards:
        mine["model"][name] = main["model"].pop(name)
    if "optimizer" in state:
        kept = dict(state["optimizer"]["state"])
        mine["optimizer"] = {name: kept.pop(order[name]) for name in shards
                             if order[name] in kept}
        main["optimizer"] = dict(state["optimizer"], state=kept)
    best = (state.get("tracker") or {}).get("best_state")
    if best is not None:
        best = dict(best)
        mine["best"] = {name: best.pop(name) for name in shards}
        main["tracker"] = dict(state["tracker"], best_state=best)
    first = next(iter(shards.values()))
    main["sharding"] = {"world": first.world,
                        "tables": {name: s.num_rows for name, s in shards.items()},
                        "order": {name: order[name] for name in shards}}
    return main, mine


def shard_file(directory: Path, rank: int, world: int) -> Path:
    return Path(directory) / SHARD_FILE.format(rank=rank, world=world)


def place(state: dict[str, Any], directory: Path | None, placement: Placement | None,
          tables: dict[str, int] | None = None, load: Any = None) -> dict[str, Any]:
    """``state`` with the sharded tables' rows of ``placement`` (whole tables for None):
    read from the checkpoint's shard files in ``directory`` when it was sharded, or cut from
    its whole tables. ``tables``: the tables a sharded worker holds, by name, with their
    place in the optimiser's state (``order``; for a checkpoint of whole tables); ``load``:
    reads one file (``checkpoint.load_file``)."""
    sharding = state.get("sharding")
    if sharding is None:
        if placement is None or not tables:
            return state
        return _cut(state, tables, placement)
    assert directory is not None and load is not None
    rank, world = placement if placement is not None else (0, 1)
    old, rows = sharding["world"], sharding["tables"]
    out = dict(state, model=dict(state["model"]))
    model, best, optim = out["model"], {}, {}
    for k in range(old):
        part = load(shard_file(directory, k, old), "checkpoint shard")
        ids = {name: torch.arange(k, n, old) for name, n in rows.items()}
        for name, n in rows.items():
            keep = ids[name] % world == rank
            at = torch.div(ids[name][keep], world, rounding_mode="floor")
            size = len(range(rank, n, world))
            _put(model, name, part["model"][name], keep, at, size)
            if name in part["best"]:
                _put(best, name, part["best"][name], keep, at, size)
            if name in part["optimizer"]:
                slot = optim.setdefault(name, {})
                for key, value in part["optimizer"][name].items():
                    if _rowwise(value, len(ids[name])):
                        _put(slot, key, value, keep, at, size)
                    else:
                        slot[key] = value
    if "tracker" in out and out["tracker"].get("best_state") is not None and best:
        out["tracker"] = dict(out["tracker"], best_state={**out["tracker"]["best_state"], **best})
    if "optimizer" in out:
        order = sharding["order"]
        out["optimizer"] = dict(out["optimizer"], state={**out["optimizer"]["state"],
                                                         **{order[n]: s for n, s in optim.items()}})
    del out["sharding"]
    return out


def _rowwise(value: Any, rows: int) -> bool:
    return isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] == rows


def _put(into: dict[str, Any], key: str, rows: torch.Tensor, keep: torch.Tensor,
         at: torch.Tensor, size: int) -> None:
    if key not in into:
        into[key] = rows.new_zeros(size, *rows.shape[1:])
    into[key][at] = rows[keep]


def _cut(state: dict[str, Any], tables: dict[str, int], placement: Placement) -> dict[str, Any]:
    """A checkpoint of whole tables, cut to the rows ``placement`` owns."""
    rank, world = placement

    def cut(name: str, value: Any, rows: int) -> Any:
        return value[rank::world].clone() if _rowwise(value, rows) else value

    out = dict(state, model=dict(state["model"]))
    rows = {name: out["model"][name].shape[0] for name in tables}
    for name in tables:
        out["model"][name] = cut(name, out["model"][name], rows[name])
    best = (out.get("tracker") or {}).get("best_state")
    if best is not None:
        out["tracker"] = dict(out["tracker"], best_state={
            k: cut(k, v, rows[k]) if k in tables else v for k, v in best.items()})
    if "optimizer" in out:
        saved = dict(out["optimizer"]["state"])
        for name, index in tables.items():
            if index in saved:
                saved[index] = {k: cut(name, v, rows[name]) for k, v in saved[index].items()}
        out["optimizer"] = dict(out["optimizer"], state=saved)
    return out


def table_order(mapper: ItemModel) -> dict[str, int]:
    """The sharded tables of ``mapper`` and their place among its parameters (the
    optimiser's checkpoint order)."""
    shards = mapper.shards
    return {name: i for i, (name, _) in enumerate(mapper.named_parameters()) if name in shards}
