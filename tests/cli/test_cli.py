"""The command line end to end (bad input: ``tests/bad_input/``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from raytrec.cli.main import main
from tests.conftest import write_config


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _flat(text: str) -> str:
    """``text`` with every run of whitespace one space: a table title may wrap anywhere."""
    return " ".join(text.split())


def test_train_evaluate_plugins(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 2})
    run = tmp_path / "run"
    code, out, _ = _run(capsys, "train", str(cfg), "--run-dir", str(run),
                        "--set", "loss.margin=0.3")
    assert code == 0 and "popularity" in out and "recall@20" in out
    assert "EASE" in out and "λ = " in out and "chosen on validation recall@20" in _flat(out)
    assert json.loads((run / "metrics.json").read_text())["epochs_run"] == 2
    # Not a terminal (a job's log, a pipe): one line an epoch instead of the live bar.
    epochs = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epochs] == ["1/2", "2/2"], out
    assert re.fullmatch(r"epoch 2/2  loss \d+\.\d{4}  recall@20 0\.\d{4}  \d+\.\d s",
                        epochs[1]), epochs
    code, out, _ = _run(capsys, "evaluate", str(run), "--json")
    result = json.loads(out)
    assert code == 0 and result["test"]["recall@20"] == pytest.approx(
        json.loads((run / "metrics.json").read_text())["test"]["recall@20"])
    code, out, _ = _run(capsys, "plugins", "--json")
    rows = json.loads(out)
    assert {"kind": "loss", "name": "logistic"}.items() <= next(
        r for r in rows if r["name"] == "logistic").items()


def test_ease_is_skipped_with_a_note_when_its_matrices_do_not_fit(tmp_path: Path, capsys,
                                                                  monkeypatch) -> None:
    monkeypatch.setattr("raytrec.memory.available_memory", lambda: 1024)
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    code, out, _ = _run(capsys, "train", str(cfg), "--run-dir", str(tmp_path / "run"))
    flat = _flat(out)
    assert code == 0 and "popularity" in out and "EASE skipped" in flat
    assert "more than half of the 0.0 GiB free (eval.ease: false leaves it out)" in flat
    monkeypatch.setattr("raytrec.evaluation.ease.AUTO_MAX_ITEMS", 10)
    code, out, _ = _run(capsys, "train", str(cfg), "--run-dir", str(tmp_path / "run1"))
    assert code == 0 and "EASE left out" in out and "EASE skipped" not in out
    code, out, _ = _run(capsys, "train", str(cfg), "--run-dir", str(tmp_path / "run2"),
                        "--set", "eval.ease=false")
    assert code == 0 and "EASE" not in out


def test_evaluate_through_an_approximate_index_beside_exact_search(tmp_path: Path,
                                                                   capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 2},
                       retriever={"name": "faiss-ivf", "nlist": 16, "nprobe": 2})
    run = tmp_path / "run"
    code, out, _ = _run(capsys, "train", str(cfg), "--run-dir", str(run))
    assert code == 0 and "through faiss-ivf (nlist=16, nprobe=2, rerank=10" in _flat(out)
    summary = json.loads((run / "metrics.json").read_text())
    assert summary["retriever"] == {"name": "faiss-ivf", "nlist": 16, "nprobe": 2, "pq": None,
                                    "rerank": 10, "seed": 0, "threads": 0}
    assert summary["retrieval"]["rows"] == summary["test"]["users"]

    code, out, _ = _run(capsys, "evaluate", str(run), "--retriever", "faiss-hnsw",
                        "--set", "retriever.ef_search=64", "--json")
    result = json.loads(out)
    assert code == 0 and result["retriever"]["name"] == "faiss-hnsw"
    assert result["retriever"]["ef_search"] == 64
    exact = result["test, exact"]
    assert result["retention"]["recall@20"] == pytest.approx(
        result["test"]["recall@20"] / exact["recall@20"])
    assert 0.8 <= result["retention"]["recall@20"] <= 1.2
    assert set(result["index (test)"]) == {"faiss-hnsw", "faiss-flat"}
    assert all(row["queries_per_s"] > 0 and row["rows"] == exact["users"]
               for row in result["index (test)"].values())

    code, out, _ = _run(capsys, "evaluate", str(run))  # the run's own index, as a table
    assert code == 0 and "retention" in out and "test, exact" in out
    assert "through faiss-ivf (nlist=16, nprobe=2" in _flat(out) and "queries/s" in out
    code, out, _ = _run(capsys, "evaluate", str(run), "--retriever", "torch-exact", "--json")
    assert code == 0 and "retention" not in json.loads(out)  # exact: nothing to compare


def test_train_help_names_what_a_resume_may_change(capsys) -> None:
    from raytrec.config.run_config import PLACEMENT_KEYS

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    shown = _flat(capsys.readouterr().out)
    assert all(key in shown for key in PLACEMENT_KEYS), shown


@pytest.mark.usefixtures("ray_cluster")
def test_a_run_prepared_on_the_cluster_trains_on_what_pandas_prepares(tmp_path: Path,
                                                                      capsys) -> None:
    rng = np.random.default_rng(0)
    events = pd.DataFrame({"user_id": rng.integers(0, 80, 2000),
                           "item_id": rng.integers(0, 120, 2000)})
    events.to_parquet(tmp_path / "events.parquet")
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1},
                       data={"name": "parquet", "path": str(tmp_path / "events.parquet")})
    metrics = {}
    for engine in ("pandas", "ray"):
        run = tmp_path / engine
        code, out, err = _run(capsys, "train", str(cfg), "--run-dir", str(run),
                              "--set", f"prepare.engine={engine}")
        assert code == 0, out
        assert "execution" not in err, err  # Ray Data's lines stay in its log
        metrics[engine] = json.loads((run / "metrics.json").read_text())["test"]
    for path in sorted((tmp_path / "pandas" / "data").iterdir()):
        assert path.read_bytes() == (tmp_path / "ray" / "data" / path.name).read_bytes(), path
    assert metrics["ray"] == metrics["pandas"]


def test_a_terminal_sees_each_stage_of_preparation_and_logs_get_none(tmp_path: Path) -> None:
    import io
    import logging

    from rich.console import Console

    from raytrec.cli.progress import preparing
    from raytrec.data.cluster import report
    from raytrec.run.job import create_job

    cfg = write_config(tmp_path / "c.yaml")
    shown = io.StringIO()
    terminal = Console(file=shown, force_terminal=True, width=200)
    with preparing(terminal):
        create_job(cfg, [], tmp_path / "run", overwrite=False)
    assert "reading the synthetic dataset" in shown.getvalue()
    assert "splitting (ratio) and writing" in shown.getvalue()
    assert not logging.getLogger("raytrec.prepare").handlers  # let go afterwards
    piped = io.StringIO()
    with preparing(Console(file=piped, force_terminal=False)):
        report.stage("writing train.parquet")
    assert piped.getvalue() == ""
