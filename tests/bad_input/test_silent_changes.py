"""What preparing the data would drop or merge is refused (missing ids) or reported."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from tests.bad_input.conftest import refused, run_cli
from tests.conftest import write_config


def _interactions(users: int = 40, per_user: int = 8, items: int = 30) -> pd.DataFrame:
    rows = [(f"{u}", f"{(u * 7 + k) % items}") for u in range(users) for k in range(per_user)]
    return pd.DataFrame(rows, columns=["user_id", "item_id"])


def _csv_config(tmp_path: Path, frame: pd.DataFrame, **data: object) -> Path:
    frame.to_csv(tmp_path / "d.csv", index=False)
    return write_config(tmp_path / "c.yaml", data={"name": "csv", "path": "d.csv", **data},
                        sampler={"num_negatives": 3}, train={"epochs": 1},
                        eval={"ks": [5, 10], "metric": "recall@10"})


def test_missing_ids_are_refused_with_their_lines(tmp_path: Path, capsys) -> None:
    frame = _interactions()
    frame.loc[[3, 40, 41], "user_id"] = None
    err = refused(capsys, tmp_path, _csv_config(tmp_path, frame))
    # Line 1 is the header: data row 3 is line 5.
    assert "has no user_id on 3 of 320 rows (lines 5, 42, 43)" in err
    assert "fill or drop those rows" in err


def test_missing_ids_from_any_dataset_are_refused(tmp_path: Path) -> None:
    import numpy as np
    import pytest

    from raytrec.data.base import RawData
    from raytrec.data.prepare import prepare
    from raytrec.data.splits import SplitConfig
    from raytrec.errors import DataError

    frame = pd.DataFrame({"user": [1.0, np.nan, 3.0], "item": [1, 2, 3]})
    with pytest.raises(DataError, match=r"1 of 3 interactions have no user id \(rows 2\)"):
        prepare(RawData(frame), SplitConfig(), tmp_path / "data")


def test_repeated_pairs_are_merged_and_reported(tmp_path: Path, capsys) -> None:
    frame = _interactions()
    cfg = _csv_config(tmp_path, pd.concat([frame, frame.iloc[:25]], ignore_index=True))
    run = tmp_path / "run"
    code, out, _ = run_cli(capsys, "train", cfg, "--run-dir", run)
    assert code == 0 and "duplicate (user, item) rows merged: 25 rows" in out
    info = json.loads((run / "data" / "info.json").read_text())
    assert info["dropped"]["duplicate (user, item) rows merged"] == 25
    assert info["interactions_read"] == 345 and sum(info["num_interactions"].values()) == 320


def test_ids_are_kept_as_written(tmp_path: Path, capsys) -> None:
    frame = _interactions()
    frame.loc[frame.user_id == "37", "user_id"] = "037"  # "037" and "37" are two users
    frame = pd.concat([frame, pd.DataFrame({"user_id": ["37"] * 8,
                                            "item_id": [str(i) for i in range(8)]})])
    run = tmp_path / "run"
    assert run_cli(capsys, "train", _csv_config(tmp_path, frame), "--run-dir", run)[0] == 0
    ids = pq.read_table(run / "data" / "users.parquet")["id"].to_pylist()
    assert len(ids) == 41 and "037" in ids and "37" in ids


def test_plain_integer_ids_stay_integers(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert run_cli(capsys, "train", _csv_config(tmp_path, _interactions()), "--run-dir",
                   run)[0] == 0
    assert str(pq.read_table(run / "data" / "users.parquet")["id"].type) == "int64"


def _feature_config(tmp_path: Path, prices: pd.DataFrame) -> Path:
    prices.to_csv(tmp_path / "f.csv", index=False)
    cfg = _csv_config(tmp_path, _interactions(), item_features="f.csv")
    return write_config(cfg, data={"name": "csv", "path": "d.csv", "item_features": "f.csv"},
                        mapper={"name": "two-tower", "dim": 8,
                                "item_features": {"numeric": ["price"]}},
                        loss={"name": "infonce"}, sampler={"name": "in-batch"},
                        train={"epochs": 1}, eval={"ks": [5, 10], "metric": "recall@10"})


def test_feature_file_missing_rows_says_so(tmp_path: Path, capsys) -> None:
    prices = pd.DataFrame({"item_id": range(27), "price": [float(i) for i in range(27)]})
    err = refused(capsys, tmp_path, _feature_config(tmp_path, prices))
    assert "column 'price' has no value for 3 of 30 items because the item feature file has " \
           "no row for them" in err


def test_text_in_a_numeric_feature_names_the_column(tmp_path: Path, capsys) -> None:
    prices = pd.DataFrame({"item_id": range(30), "price": ["1.5"] * 29 + ["b"]})
    err = refused(capsys, tmp_path, _feature_config(tmp_path, prices))
    assert "item feature column 'price' is declared numeric but holds text ('b'" in err


def test_parquet_ids_keep_the_files_types(tmp_path: Path, capsys) -> None:
    frame = _interactions()  # ids written as text: Parquet says they are strings
    frame.to_parquet(tmp_path / "d.parquet")
    cfg = write_config(tmp_path / "c.yaml", data={"name": "parquet", "path": "d.parquet"},
                       sampler={"num_negatives": 3}, train={"epochs": 1},
                       eval={"ks": [5, 10], "metric": "recall@10"})
    run = tmp_path / "run"
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    assert str(pq.read_table(run / "data" / "users.parquet")["id"].type) == "string"
