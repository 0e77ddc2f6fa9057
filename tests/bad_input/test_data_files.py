"""Data files that are not what they seem: each read when raytrec can, else one message that
names the file, the cause and the fix."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.bad_input.conftest import refused, run_cli
from tests.conftest import write_config

ROWS = [(str(u), str(i)) for u in range(1, 61) for i in range(1 + u % 7, 41, 3)]


def _text(rows: list[tuple[str, str]] = ROWS, sep: str = ",") -> str:
    return "user_id" + sep + "item_id\n" + "".join(f"{u}{sep}{i}\n" for u, i in rows)


def _config(tmp_path: Path, path: Path, **data: object) -> Path:
    return write_config(tmp_path / "c.yaml", data={"name": "csv", "path": str(path), **data},
                        train={"epochs": 1})


def test_a_named_pipe_is_named_and_never_opened(tmp_path: Path, capsys) -> None:
    """Before: "does not exist". Opening it would wait for a writer for ever."""
    fifo = tmp_path / "d.csv"
    os.mkfifo(fifo)
    err = refused(capsys, tmp_path, _config(tmp_path, fifo))
    assert "is not a regular file (a named pipe, socket or device)" in err
    assert "write the data to a file" in err


def test_a_gzipped_file_is_read_whatever_its_name(tmp_path: Path, capsys) -> None:
    """Before: a UTF-8 decode error."""
    path = tmp_path / "d.csv"
    path.write_bytes(gzip.compress(_text().encode()))
    code, out, err = run_cli(capsys, "train", _config(tmp_path, path), "--run-dir",
                             tmp_path / "run")
    assert code == 0, err
    assert "data: 60 users" in out


def test_a_latin1_file_names_its_line_and_the_encoding_option(tmp_path: Path, capsys) -> None:
    path = tmp_path / "d.csv"
    rows = [*ROWS[:40], ("Zoë", "3"), *ROWS[40:]]
    path.write_bytes(_text(rows).encode("latin-1"))
    err = refused(capsys, tmp_path, _config(tmp_path, path))
    assert f"{path} is not utf-8 text: byte 0xeb on line 42" in err
    assert "set the dataset's encoding: to the file's (latin-1, cp1252, ...)" in err
    code, _, err = run_cli(capsys, "train", _config(tmp_path, path, encoding="latin-1"),
                           "--run-dir", tmp_path / "run")
    assert code == 0, err


def test_a_tab_separated_file_is_answered_with_sep(tmp_path: Path, capsys) -> None:
    """Before: advice about *_col."""
    path = tmp_path / "d.csv"
    path.write_text(_text(sep="\t"))
    err = refused(capsys, tmp_path, _config(tmp_path, path))
    assert "its header is one column that holds '\\t': set the dataset's sep: \"\\t\"" in err
    assert "*_col" not in err


def test_a_header_repeated_in_the_rows_is_refused_with_its_lines(tmp_path: Path,
                                                                 capsys) -> None:
    """Two CSVs concatenated: before, 'user_id' became a user."""
    path = tmp_path / "d.csv"
    path.write_text(_text(ROWS[:100]) + _text(ROWS[100:]))
    err = refused(capsys, tmp_path, _config(tmp_path, path))
    assert "its header is repeated on line 102 (files concatenated?); remove those lines" in err


def test_a_header_naming_a_column_twice_is_refused(tmp_path: Path, capsys) -> None:
    """Before: pandas renamed the second one 'item_id.1' and it was dropped unread."""
    path = tmp_path / "d.csv"
    path.write_text("user_id,item_id,item_id\n" + "".join(f"{u},{i},{i}\n" for u, i in ROWS))
    err = refused(capsys, tmp_path, _config(tmp_path, path))
    assert "its header names column 'item_id' twice (columns 2 and 3); rename one" in err


@pytest.mark.parametrize("kind", ["list", "struct"])
def test_parquet_ids_that_are_not_one_id_per_row(tmp_path: Path, capsys, kind: str) -> None:
    """Before: TypeError: unhashable type, with a traceback."""
    users = [[int(u)] for u, _ in ROWS] if kind == "list" else [{"id": int(u)} for u, _ in ROWS]
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"user_id": users, "item_id": [int(i) for _, i in ROWS]}), path)
    cfg = write_config(tmp_path / "c.yaml", data={"name": "parquet", "path": str(path)})
    err = refused(capsys, tmp_path, cfg)
    assert f"{path}: column 'user_id' holds {kind}<" in err
    assert "an id is one integer or text per row" in err


def test_ids_written_as_floats_in_the_features_file_are_warned_about(tmp_path: Path,
                                                                     capsys) -> None:
    """Before: only "no row for N items"."""
    data, features = tmp_path / "d.csv", tmp_path / "f.csv"
    data.write_text(_text())
    items = sorted({int(i) for _, i in ROWS})
    features.write_text("item_id,price\n" + "".join(f"{i}.0,{i}\n" for i in items))
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1},
                       data={"name": "csv", "path": str(data), "item_features": str(features)},
                       mapper={"name": "feature-mlp", "dim": 16,
                               "item_features": {"numeric": ["price"]}})
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 2  # no item has its price: refused, and the message says why
    assert f"data.item_features: {len(items)} item ids have a row only under the same number " \
           "written another way (1 and 1.0, or 01)" in err
    assert "write the ids alike in both files" in err


def test_test_users_with_no_more_candidates_than_k_are_warned_about(tmp_path: Path,
                                                                    capsys) -> None:
    """Before: recall 1.0 on every row, without comment."""
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1},
                       data={"name": "synthetic", "num_users": 100, "num_items": 30,
                             "interactions_per_user": 20, "num_clusters": 3, "seed": 1},
                       eval={"ks": [10, 25], "metric": "recall@10"})
    code, out, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 0, err
    assert "test users have at most K=25 items left to rank once their training items are " \
           "excluded, so recall and hit rate @25 are 1.0" in out


@pytest.mark.parametrize("damage", ["truncated gzip", "zstd"])
def test_compressed_files_raytrec_cannot_open(tmp_path: Path, capsys, damage: str) -> None:
    """Before: EOFError ("Compressed file ended before the end-of-stream marker") and pandas's
    ImportError for zstandard, each as a traceback."""
    path = tmp_path / "d.csv"
    if damage == "truncated gzip":
        path.write_bytes(gzip.compress(_text().encode())[:200])
        said = f"{path} is gzip-compressed but cannot be decompressed (Compressed file ended " \
               "before the end-of-stream marker was reached)"
    else:
        import importlib.util

        path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 50)
        said = f"{path} is zstd-compressed and reading it needs the zstandard package" \
            if importlib.util.find_spec("zstandard") is None else \
            f"{path} is zstd-compressed but cannot be decompressed"
    err = refused(capsys, tmp_path, _config(tmp_path, path))
    assert said in err, err


def test_a_file_of_the_other_format_names_the_dataset_to_use(tmp_path: Path, capsys) -> None:
    """Before: a Parquet file given to csv was "not utf-8 text: byte 0xc0" with advice about
    encodings; a CSV given to parquet was "Parquet magic bytes not found"."""
    parquet = tmp_path / "d.parquet"
    pq.write_table(pa.table({"user_id": [1, 2], "item_id": [3, 4]}), parquet)
    err = refused(capsys, tmp_path, _config(tmp_path, parquet))
    assert f"{parquet} is a Parquet file, not CSV text; set data.name: parquet" in err
    assert "encoding" not in err
    text = tmp_path / "d.csv"
    text.write_text(_text())
    err = refused(capsys, tmp_path, _config(tmp_path, text, name="parquet"))
    assert f"{text} is not a Parquet file: it starts as text ('user_id,item_id'); for CSV " \
           "text set data.name: csv" in err


def test_a_utf16_file_is_named_as_such(tmp_path: Path, capsys) -> None:
    """Before: "not utf-8 text: byte 0xff on line 1" and a list of 8-bit encodings."""
    path = tmp_path / "d.csv"
    path.write_bytes(_text().encode("utf-16"))
    err = refused(capsys, tmp_path, _config(tmp_path, path))
    assert f"{path} is UTF-16 text (it starts with a UTF-16 byte-order mark); set the " \
           "dataset's encoding: utf-16, or save it as UTF-8" in err
    code, _, err = run_cli(capsys, "train", _config(tmp_path, path, encoding="utf-16"),
                           "--run-dir", tmp_path / "run")
    assert code == 0, err


def test_a_comma_file_read_with_another_sep_is_answered_with_sep(tmp_path: Path,
                                                                 capsys) -> None:
    """Before: sep: "\\t" on a comma-separated file got advice about *_col."""
    path = tmp_path / "d.csv"
    path.write_text(_text())
    err = refused(capsys, tmp_path, _config(tmp_path, path, sep="\t"))
    assert "its header is one column that holds ',': set the dataset's sep: \",\"" in err


def test_a_utf8_byte_order_mark_is_read(tmp_path: Path, capsys) -> None:
    """Excel's "CSV UTF-8" starts with a BOM; its first column must still be user_id."""
    path = tmp_path / "d.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _text().encode())
    code, out, err = run_cli(capsys, "train", _config(tmp_path, path), "--run-dir",
                             tmp_path / "run")
    assert code == 0, err
    assert "data: 60 users" in out
