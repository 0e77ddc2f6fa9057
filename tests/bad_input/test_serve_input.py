"""Bad input to export and recommend: one clear message, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bad_input.conftest import run_cli
from tests.conftest import write_config


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from raytrec.cli.main import main

    tmp = tmp_path_factory.mktemp("serve-bad")
    cfg = write_config(tmp / "c.yaml", train={"epochs": 1})
    assert main([str(a) for a in ("train", cfg, "--run-dir", tmp / "run")]) == 0
    return tmp / "run"


def _refused(capsys, *argv) -> str:
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and err.startswith("raytrec: ") and "Traceback" not in err, err
    return err


def test_unknown_user(run: Path, capsys) -> None:
    err = _refused(capsys, "recommend", run, "--user", "nobody")
    assert "user 'nobody' is not among the run's 300 users (ids such as 0, 1, 2)" in err


def test_users_file_without_a_user_column(run: Path, tmp_path: Path, capsys) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_text("customer\n3\n")
    err = _refused(capsys, "recommend", run, "--users", ids, "--out", tmp_path / "o.parquet")
    assert "has no 'user' column (it has customer); name the id column 'user'" in err
    assert not (tmp_path / "o.parquet").exists()


def test_users_without_out_and_out_that_exists(run: Path, tmp_path: Path, capsys) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("3\n")
    assert "give --out FILE.parquet" in _refused(capsys, "recommend", run, "--users", ids)
    mine = tmp_path / "mine.parquet"
    mine.write_text("my own file")
    err = _refused(capsys, "recommend", run, "--users", ids, "--out", mine)
    assert "already exists; raytrec does not replace files it did not make" in err
    assert mine.read_text() == "my own file"


def test_k_larger_than_the_catalogue(run: Path, capsys) -> None:
    assert "-k 500: give 1 <= k <= 200" in _refused(capsys, "recommend", run, "--user", "3",
                                                     "-k", "500")


def test_source_that_is_neither_a_run_nor_an_export(tmp_path: Path, capsys) -> None:
    err = _refused(capsys, "recommend", tmp_path, "--user", "3")
    assert "is neither a run directory (no config.yaml) nor an export (no manifest.json)" in err


def test_export_into_a_directory_raytrec_did_not_make(run: Path, tmp_path: Path,
                                                     capsys) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("keep me")
    err = _refused(capsys, "export", run, "--out", theirs)
    assert "already exists; pass --overwrite to replace it, or choose another --out" in err
    err = _refused(capsys, "export", run, "--out", theirs, "--overwrite")
    assert "was not made by raytrec" in err and "choose another --out" in err
    assert (theirs / "notes.txt").read_text() == "keep me"


def test_export_with_options_the_data_refutes(run: Path, tmp_path: Path, capsys) -> None:
    err = _refused(capsys, "export", run, "--out", tmp_path / "e", "--retriever", "faiss-ivf",
                   "--set", "retriever.nlist=1000")
    assert "retriever.nlist: nlist=1000 is larger than the catalogue (200 items)" in err
    assert not (tmp_path / "e").exists()


def test_export_that_is_damaged(run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "e"
    assert run_cli(capsys, "export", run, "--out", out)[0] == 0
    (out / "manifest.json").write_text("{not json")
    err = _refused(capsys, "recommend", out, "--user", "3")
    assert "manifest.json cannot be read" in err and "export the run again" in err
