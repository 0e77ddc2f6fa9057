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


def _run(model: str, sparse: str, world: int, out: Path, transport: str = "direct"
         ) -> list[Path]:
    name = f"{model}-{world}-{{rank}}-{transport}.pt"
    run_ranks(WORKER, world, [model, sparse, str(out / name), transport])
    return [out / name.format(rank=rank) for rank in range(world)]


@pytest.mark.parametrize(("model", "sparse", "transport"), [
    ("cml", "true", "direct"), ("bpr", "true", "direct"), ("two-tower", "true", "direct"),
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
