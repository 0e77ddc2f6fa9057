"""Bad input to export and recommend: one clear message, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from raytrec.cli.main import main
from tests.bad_input.conftest import run_cli


def _refused(capsys, *argv) -> str:
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and err.startswith("raytrec: ") and "Traceback" not in err, err
    return err


def test_unknown_user(tiny_run: Path, capsys) -> None:
    err = _refused(capsys, "recommend", tiny_run, "--user", "nobody")
    assert "user 'nobody' is not among the run's 300 users (ids such as 0, 1, 2)" in err


def test_users_file_without_a_user_column(tiny_run: Path, tmp_path: Path, capsys) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_text("customer\n3\n")
    err = _refused(capsys, "recommend", tiny_run, "--users", ids, "--out", tmp_path / "o.parquet")
    assert "has no 'user' column (it has customer); name the id column 'user'" in err
    assert not (tmp_path / "o.parquet").exists()


def test_users_without_out_and_out_that_exists(tiny_run: Path, tmp_path: Path, capsys) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("3\n")
    assert "give --out FILE.parquet" in _refused(capsys, "recommend", tiny_run, "--users", ids)
    mine = tmp_path / "mine.parquet"
    mine.write_text("my own file")
    err = _refused(capsys, "recommend", tiny_run, "--users", ids, "--out", mine)
    assert "already exists; raytrec does not replace files it did not make" in err
    assert mine.read_text() == "my own file"


def test_k_larger_than_the_catalogue(tiny_run: Path, capsys) -> None:
    assert "-k 500: give 1 <= k <= 200" in _refused(capsys, "recommend", tiny_run, "--user", "3",
                                                     "-k", "500")


def test_source_that_is_neither_a_run_nor_an_export(tmp_path: Path, capsys) -> None:
    err = _refused(capsys, "recommend", tmp_path, "--user", "3")
    assert "is neither a run directory (no config.yaml) nor an export (no manifest.json)" in err


def test_export_into_a_directory_raytrec_did_not_make(tiny_run: Path, tmp_path: Path,
                                                     capsys) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("keep me")
    err = _refused(capsys, "export", tiny_run, "--out", theirs)
    assert "already exists and was not made by raytrec" in err and "choose a new --out" in err
    err = _refused(capsys, "export", tiny_run, "--out", theirs, "--overwrite")
    assert "was not made by raytrec" in err and "choose a new --out" in err
    assert (theirs / "notes.txt").read_text() == "keep me"


def test_export_with_options_the_data_refutes(tiny_run: Path, tmp_path: Path, capsys) -> None:
    err = _refused(capsys, "export", tiny_run, "--out", tmp_path / "e", "--retriever", "faiss-ivf",
                   "--set", "retriever.nlist=1000")
    assert "retriever.nlist: nlist=1000 is larger than the catalogue (200 items)" in err
    assert not (tmp_path / "e").exists()


def test_export_that_is_damaged(tiny_run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "e"
    assert run_cli(capsys, "export", tiny_run, "--out", out)[0] == 0
    (out / "manifest.json").write_text("{not json")
    err = _refused(capsys, "recommend", out, "--user", "3")
    assert "manifest.json cannot be read" in err and "export the run again" in err


def test_export_whose_manifest_names_no_distance(tiny_run: Path, tmp_path: Path,
                                                 capsys) -> None:
    out = tmp_path / "e"
    assert run_cli(capsys, "export", tiny_run, "--out", out)[0] == 0
    manifest = out / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"distance": "l2"', '"distance": "l3"'))
    err = _refused(capsys, "recommend", out, "--user", "3")
    assert "cannot be loaded (unknown distance 'l3'; known distances: dot, cosine, l2)" in err
    assert "export the run again" in err


@pytest.mark.parametrize("damage", ["garbage index", "fewer items", "missing file"])
def test_an_export_whose_files_are_not_as_exported(tiny_run: Path, tmp_path: Path, capsys,
                                                  damage: str) -> None:
    """Before: a FAISS RuntimeError or an IndexError traceback, or served as if whole."""
    import pyarrow.parquet as pq

    out = tmp_path / "e"
    assert main(["export", str(tiny_run), "--out", str(out)]) == 0
    if damage == "garbage index":
        (out / "index.faiss").write_bytes(b"\x00garbage" * 1000)
    elif damage == "fewer items":
        for name in ("items.parquet", "item_embeddings.parquet"):
            pq.write_table(pq.read_table(out / name).slice(0, 50), out / name)
    else:
        (out / "users.parquet").unlink()
    capsys.readouterr()
    err = _refused(capsys, "recommend", out, "--user", "3")
    assert "export the run again with raytrec export RUN_DIR --out DIR --overwrite" in err
    said = {"garbage index": f"{out}/index.faiss has ",
            "fewer items": f"{out}/item_embeddings.parquet has ",
            "missing file": f"{out}/users.parquet is missing from the export"}[damage]
    assert said in err


@pytest.mark.parametrize("damage", ["garbage vectors", "garbage seen", "no embedding column",
                                    "fewer ids", "seen out of range"])
def test_an_export_without_digests_is_still_checked(tiny_run: Path, tmp_path: Path, capsys,
                                                    damage: str) -> None:
    """An export made before manifests listed files: what can be checked still is. Before:
    ArrowInvalid or KeyError tracebacks; ids files and seen items that do not match the
    vectors were served."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "e"
    assert main(["export", str(tiny_run), "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["files"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert run_cli(capsys, "recommend", out, "--user", "3")[0] == 0
    name = {"garbage vectors": "item_embeddings.parquet", "garbage seen": "seen.parquet",
            "no embedding column": "item_embeddings.parquet", "fewer ids": "items.parquet",
            "seen out of range": "seen.parquet"}[damage]
    if damage.startswith("garbage"):
        (out / name).write_bytes(b"\x00garbage" * 100)
    elif damage == "no embedding column":
        pq.write_table(pq.read_table(out / name).drop(["embedding"]), out / name)
    elif damage == "fewer ids":
        pq.write_table(pq.read_table(out / name).slice(0, 50), out / name)
    else:
        pq.write_table(pa.table({"user": [3], "item": [10**6]}), out / name)
    err = _refused(capsys, "recommend", out, "--user", "3")
    assert f"{out}/{name} " in err and "export the run again" in err, err
