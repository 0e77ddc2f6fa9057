"""Two workers over gloo, each taking half of every global batch, train the same parameters as
one worker taking all of it: row-sparse ID tables exchanged as (row ids, rows), dense
parameters under DDP, with ``train.sparse: false`` the whole tables under DDP, and with
``auto`` one table of each kind; rows travel pairwise (gloo's default) or by ``all_gather``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.train.gloo import run_ranks

WORKER = Path(__file__).with_name("exchange_worker.py")


def _run(model: str, sparse: str, world: int, out: Path, transport: str = "direct",
         sharding: str = "replicated") -> list[Path]:
    name = f"{model}-{world}-{{rank}}-{transport}-{sharding}.pt"
    run_ranks(WORKER, world, [model, sparse, str(out / name), transport, sharding])
    return [out / name.format(rank=rank) for rank in range(world)]


# CML's row-sparse exchange pairwise is in "auto" (its item table) and in the sharded test's
# 3 workers; BPR and two-tower's here.
@pytest.mark.parametrize(("model", "sparse", "transport"), [
    ("bpr", "true", "direct"), ("two-tower", "true", "direct"),
    ("cml", "false", "direct"), ("cml", "auto", "direct"), ("cml", "true", "all_gather")])
def test_two_workers_train_what_one_does(model: str, sparse: str, transport: str,
                                         tmp_path: Path) -> None:
    (one,) = _run(model, sparse, 1, tmp_path)
    first, second = _run(model, sparse, 2, tmp_path, transport)
    alone, a, b = (torch.load(p) for p in (one, first, second))
    for name, value in alone.items():
        assert torch.equal(a[name], b[name]), f"{name}: the replicas differ"
        assert torch.allclose(a[name], value, rtol=1e-4, atol=1e-6), \
            f"{name}: 2 workers moved it {float((a[name] - value).abs().max()):.3g} off 1 worker"
    report = json.loads(Path(f"{first}.json").read_text())
    if sparse == "true":
        assert report["tables"], "the ID tables are row-sparse"
        assert report["ddp"] == (model == "two-tower"), "DDP only over dense parameters"
        # What every worker derives from the data (non-persistent buffers) is never broadcast.
        assert not [n for n in report["broadcast_buffers"] if "seen" in n or "table_" in n]
    elif sparse == "auto":  # the user table under DDP beside the row-sparse item table
        assert report["ddp"] and report["tables"] == ["item_emb"]
    else:
        assert report["ddp"] and not report["tables"]
    assert report["exchanged_bytes"] > 0


def _same(alone: dict[str, torch.Tensor], other: dict[str, torch.Tensor], what: str) -> None:
    for name, value in alone.items():
        assert torch.allclose(other[name], value, rtol=1e-4, atol=1e-6), \
            f"{name}: {what} moved it {float((other[name] - value).abs().max()):.3g} off 1 worker"


@pytest.mark.parametrize(("model", "world", "transport"), [
    ("bpr", 2, "direct"), ("two-tower", 2, "direct"), ("cml", 3, "direct"),
    ("cml", 2, "all_gather")])
def test_tables_sharded_by_rows_train_what_replicas_do(model: str, world: int, transport: str,
                                                       tmp_path: Path) -> None:
    """CML (candidates scored without gradient through the shards, the hardest selected, the
    unit-ball clip on each worker's rows), BPR and two-tower's ID embeddings: every ID table
    sharded over 2 or 3 workers (rows that do not divide evenly) trains what one worker
    trains, and so what replicas train (``test_two_workers_train_what_one_does``)."""
    (one,) = _run(model, "true", 1, tmp_path)
    sharded = _run(model, "true", world, tmp_path, transport, "rows")
    alone, shards = (torch.load(p) for p in (one, sharded[0]))
    _same(alone, shards, f"{world} shards")
    whole, parts = (json.loads(Path(f"{p}.json").read_text()) for p in (one, sharded[0]))
    assert set(parts["sharded"]) == set(parts["tables"]) != set()
    # Each worker holds about 1/W of the tables and their optimiser state.
    assert parts["table_bytes"] <= whole["table_bytes"] / world * 1.05 + 2 * 8 * 4 * 2


def test_sizes_travel_with_the_tensors_and_served_lookups_exchange_nothing() -> None:
    run_ranks(Path(__file__).with_name("serving_worker.py"), 3, [])
