"""The training loop with ID tables sharded by rows (``train.sharding: rows``), as ranks of a
gloo group (``loop_worker.py``): it trains what replicas train, its checkpoints resume on any
number of workers, and it scores exactly what one index over the catalogue scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from raytrec.layout import STATE_FILE
from raytrec.run.job import create_job
from raytrec.train.checkpoint import load_file
from tests.conftest import write_config
from tests.train.gloo import run_ranks

WORKER = Path(__file__).with_name("loop_worker.py")


def _job(tmp_path: Path, name: str, **sections: dict) -> Path:
    cfg = write_config(tmp_path / f"{name}.yaml", **{"train": {"epochs": 3}, **sections})
    return create_job(cfg, [], tmp_path / name, overwrite=False).run_dir


def _train(run_dir: Path, world: int, *pairs: str) -> dict:
    out = run_dir / "summary.json"
    out.unlink(missing_ok=True)
    run_ranks(WORKER, world, [str(run_dir), str(out), *pairs], timeout=300)
    return json.loads(out.read_text()) if out.exists() else {}


def _final_model(run_dir: Path) -> dict[str, torch.Tensor]:
    last = sorted((run_dir / "gloo").glob("checkpoint_*"))[-1]
    return load_file(last / STATE_FILE)["model"]


@pytest.mark.parametrize("mapper", [
    {"name": "embedding", "dim": 16, "distance": "l2", "max_norm": 1.0},
    {"name": "two-tower", "dim": 8, "id_dim": 8, "hidden": [],
     "item_features": {"categorical": ["cluster"]}}], ids=["cml", "two-tower"])
def test_sharded_tables_train_and_score_what_replicas_do(mapper: dict, tmp_path: Path) -> None:
    extra = {} if mapper["name"] == "embedding" else {"loss": {"name": "infonce"}}
    replicated, sharded = (_job(tmp_path, name, mapper=mapper, **extra)
                           for name in ("replicated", "sharded"))
    one = _train(replicated, 2, "sharding=replicated")
    two = _train(sharded, 2, "sharding=rows")
    a, b = _final_model(replicated), _final_model(sharded)
    assert a.keys() == b.keys()
    for name, value in a.items():  # the whole model, gathered from the shards
        assert value.shape == b[name].shape, name
        assert torch.allclose(value, b[name], rtol=1e-4, atol=1e-5), \
            f"{name}: {float((value - b[name]).abs().max()):.3g} apart"
    for split in ("valid", "test"):
        for metric, value in one[split].items():
            assert two[split][metric] == pytest.approx(value, rel=1e-3, abs=1e-6), \
                f"{split}/{metric}"
    assert two["train"]["table_mb"] < 0.55 * one["train"]["table_mb"]
    assert (sharded / "gloo").is_dir() and sorted((sharded / "gloo").glob("*/shard-*-of-00002.pt"))


def test_auto_shards_only_when_the_whole_model_would_not_fit_the_machine(
        tmp_path: Path) -> None:
    run = _job(tmp_path, "auto", train={"epochs": 1})
    roomy = _train(run, 2, "sharding=auto", "free=1000000000")
    assert not sorted((run / "gloo").glob("*/shard-*"))  # replicated: no shard files
    run = _job(tmp_path, "auto-tight", train={"epochs": 1})
    tight = _train(run, 2, "sharding=auto", "free=1000")
    assert sorted((run / "gloo").glob("*/shard-*-of-00002.pt"))
    assert tight["train"]["table_mb"] == pytest.approx(roomy["train"]["table_mb"] / 2, rel=0.05)
    assert tight["test"] == pytest.approx(roomy["test"], rel=1e-3, abs=1e-6)


def test_a_sharded_run_resumes_on_other_numbers_of_workers(tmp_path: Path) -> None:
    """Stopped after epoch 2 on 2 sharded workers, it resumes on 2 (the same model as an
    uninterrupted run), and on 1 and on 3 (the same model, every row kept, then training on)."""
    whole = _job(tmp_path, "whole", train={"epochs": 3})
    _train(whole, 2, "sharding=rows")
    for name, world in (("again", 2), ("one", 1), ("three", 3)):
        run = _job(tmp_path, name, train={"epochs": 3})
        _train(run, 2, "sharding=rows", "stop_after=2")
        epoch_2 = sorted((run / "gloo").glob("checkpoint_*"))
        assert len(epoch_2) == 2 and (epoch_2[-1] / "shard-00001-of-00002.pt").exists()
        summary = _train(run, world, "sharding=rows" if world > 1 else "sharding=replicated")
        assert summary["epochs_run"] == 3
        # Resumed, not begun again: epoch 3 and the final scoring only.
        assert len(sorted((run / "gloo").glob("checkpoint_*"))) == 4
        if world == 2:
            for key, value in _final_model(whole).items():
                assert torch.allclose(value, _final_model(run)[key], atol=1e-6), key


@pytest.mark.parametrize(("retriever", "world"), [("faiss-flat", 2), ("faiss-flat", 3),
                                                  ("torch-exact", 2)])
def test_sharded_scoring_returns_the_lists_of_one_index(retriever: str, world: int,
                                                        tmp_path: Path) -> None:
    """Each worker indexes its share of the items (1/W of them); every query's lists from
    every share merge into the top k of one index over the catalogue, seen items skipped."""
    out = tmp_path / "scores.json"
    run_ranks(EVAL_WORKER, world, [retriever, str(out)])
    found = json.loads(out.read_text())
    assert found["found"] == found["expected"]
    assert found["sharded"] == pytest.approx(found["whole"], rel=1e-9)
    # Ranked among some items only (the others held out of training), ids renumbered.
    assert found["sharded_among"] == pytest.approx(found["whole_among"], rel=1e-9)
    assert found["index_items"] == len(range(0, 401, world))


EVAL_WORKER = Path(__file__).with_name("eval_worker.py")
