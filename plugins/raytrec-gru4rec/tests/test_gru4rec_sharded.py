"""GRU4Rec's item tables are ID tables like any mapper's: row-sparse, and sharded by rows
over workers (``train.sharding: rows``) they train and score what replicas do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_gru4rec_task import session_config

from raytrec.layout import STATE_FILE
from raytrec.run.job import create_job
from raytrec.train.checkpoint import load_file
from tests.train.gloo import run_ranks

WORKER = Path(__file__).resolve().parents[3] / "tests" / "train" / "loop_worker.py"


@pytest.mark.parametrize("mapper", [{"name": "gru4rec", "hidden": 16},
                                    {"name": "gru4rec", "hidden": 16, "embedding": 8,
                                     "constrained_embedding": False}],
                         ids=["constrained", "embedding"])
def test_item_tables_sharded_over_two_workers(mapper: dict, tmp_path: Path) -> None:
    found = {}
    for sharding in ("replicated", "rows"):
        cfg = session_config(tmp_path / f"{sharding}.yaml", mapper=mapper,
                             train={"epochs": 2, "batch_size": 32, "optimizer": "adagrad",
                                    "lr": 0.1, "threads": 1})
        run = create_job(cfg, [], tmp_path / sharding, overwrite=False).run_dir
        out = run / "summary.json"
        run_ranks(WORKER, 2, [str(run), str(out), f"sharding={sharding}"], timeout=300)
        last = sorted((run / "gloo").glob("checkpoint_*"))[-1]
        found[sharding] = (json.loads(out.read_text()), load_file(last / STATE_FILE)["model"],
                           sorted(p.name for p in (run / "gloo").glob("*/shard-*")))
    (one, a, _), (two, b, shard_files) = found["replicated"], found["rows"]
    assert shard_files, "each worker wrote its rows of the item tables"
    for name, value in a.items():
        assert value.shape == b[name].shape, name
        assert torch.allclose(value, b[name], rtol=1e-4, atol=1e-5), \
            f"{name}: {float((value - b[name]).abs().max()):.3g} apart"
    for metric, value in one["test"].items():
        assert two["test"][metric] == pytest.approx(value, rel=1e-3, abs=1e-6), metric
