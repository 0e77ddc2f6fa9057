"""The command line end to end (bad input: ``tests/bad_input/``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raytrec.cli.main import main
from tests.conftest import write_config


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_evaluate_plugins(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 2})
    run = tmp_path / "run"
    code, out, _ = _run(capsys, "train", str(cfg), "--run-dir", str(run),
                        "--set", "loss.margin=0.3")
    assert code == 0 and "popularity" in out and "recall@20" in out
    assert json.loads((run / "metrics.json").read_text())["epochs_run"] == 2
    code, out, _ = _run(capsys, "evaluate", str(run), "--json")
    result = json.loads(out)
    assert code == 0 and result["test"]["recall@20"] == pytest.approx(
        json.loads((run / "metrics.json").read_text())["test"]["recall@20"])
    code, out, _ = _run(capsys, "plugins", "--json")
    rows = json.loads(out)
    assert {"kind": "loss", "name": "logistic"}.items() <= next(
        r for r in rows if r["name"] == "logistic").items()
