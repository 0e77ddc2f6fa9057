"""The command line end to end, and every kind of bad input it must refuse cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
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


def _refused(capsys, tmp_path: Path, cfg: Path, *extra: str) -> str:
    run = tmp_path / "run-refused"
    code, _, err = _run(capsys, "train", str(cfg), "--run-dir", str(run), *extra)
    assert code == 2
    assert not run.exists() and not list(tmp_path.glob("run-refused*"))
    assert "Traceback" not in err
    return err


def test_unknown_plugin_name(tmp_path: Path, capsys) -> None:
    err = _refused(capsys, tmp_path, write_config(tmp_path / "c.yaml", loss={"name": "cmll"}))
    assert "loss.name: unknown loss 'cmll' — did you mean 'cml'?" in err


def test_misspelled_key_and_wrong_type_reported_together(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", loss={"margn": 0.3}, train={"epochs": "x"})
    err = _refused(capsys, tmp_path, cfg)
    assert "2 problems" in err and "did you mean 'margin'" in err and "train.epochs" in err


def test_missing_data_file(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml")
    err = _refused(capsys, tmp_path, cfg, "--set", "data={name: csv, path: nowhere.csv}")
    assert "nowhere.csv" in err


def test_missing_id_column(tmp_path: Path, capsys) -> None:
    pd.DataFrame({"uid": [1, 2], "item_id": [3, 4]}).to_csv(tmp_path / "d.csv", index=False)
    cfg = write_config(tmp_path / "c.yaml")
    err = _refused(capsys, tmp_path, cfg, "--set", f"data={{name: csv, path: {tmp_path}/d.csv}}")
    assert "user_id" in err and "d.csv" in err


def test_empty_dataset(tmp_path: Path, capsys) -> None:
    (tmp_path / "e.csv").write_text("user_id,item_id\n")
    cfg = write_config(tmp_path / "c.yaml")
    err = _refused(capsys, tmp_path, cfg, "--set", f"data={{name: csv, path: {tmp_path}/e.csv}}")
    assert "e.csv" in err


def test_existing_run_dir_is_kept_unless_overwrite(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    run = tmp_path / "run"
    run.mkdir()
    (run / "keep.txt").write_text("earlier results")
    code, _, err = _run(capsys, "train", str(cfg), "--run-dir", str(run))
    assert code == 2 and "--overwrite" in err
    assert (run / "keep.txt").read_text() == "earlier results"
    code, _, _ = _run(capsys, "train", str(cfg), "--run-dir", str(run), "--overwrite")
    assert code == 0 and not (run / "keep.txt").exists() and (run / "metrics.json").exists()


def test_missing_config_file(tmp_path: Path, capsys) -> None:
    code, _, err = _run(capsys, "train", str(tmp_path / "none.yaml"))
    assert code == 2 and "none.yaml" in err and "does not exist" in err


def test_more_negatives_than_items_is_a_config_error(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", sampler={"num_negatives": 5000})
    err = _refused(capsys, tmp_path, cfg)
    assert "sampler: num_negatives=5000 is larger than the catalogue" in err
