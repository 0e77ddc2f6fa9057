"""CSV and Parquet datasets: column mapping, ready-made splits, feature files, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from raytrec.data.delimited import CsvDataset
from raytrec.data.tabular import ParquetDataset, TabularDataset
from raytrec.errors import DataError

ROWS = pd.DataFrame({
    "uid": ["a", "a", "b", "c"],
    "movie": [1, 2, 1, 3],
    "stars": [5.0, 2.0, 4.0, 3.5],
    "when": [100, 200, 300, 400],
    "extra": ["x", "y", "z", "w"],
})


def write(df: pd.DataFrame, path: Path) -> str:
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False, sep="\t" if path.suffix == ".tsv" else ",")
    return str(path)


def make(kind: type[TabularDataset], **kwargs: object) -> TabularDataset:
    cols = {"user_col": "uid", "item_col": "movie", "rating_col": "stars",
            "timestamp_col": "when"}
    return kind(**{**cols, **kwargs})  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "ext"), [(CsvDataset, ".csv"), (ParquetDataset, ".parquet")])
def test_custom_column_names(tmp_path: Path, kind: type[TabularDataset], ext: str) -> None:
    raw = make(kind, path=write(ROWS, tmp_path / f"data{ext}")).load()
    inter = raw.interactions
    assert list(inter.columns) == ["user", "item", "rating", "timestamp"]
    assert inter["user"].tolist() == ["a", "a", "b", "c"]
    assert inter["item"].tolist() == [1, 2, 1, 3]
    assert inter["rating"].tolist() == [5.0, 2.0, 4.0, 3.5]
    assert inter["timestamp"].tolist() == [100, 200, 300, 400]
    assert raw.name == kind.name
    assert raw.user_features is None and raw.item_features is None


def test_default_columns_and_separator(tmp_path: Path) -> None:
    df = pd.DataFrame({"user_id": [1, 2], "item_id": [7, 8]})
    raw = CsvDataset(path=write(df, tmp_path / "d.tsv"), sep="\t").load()
    assert list(raw.interactions.columns) == ["user", "item"]
    assert raw.interactions["item"].tolist() == [7, 8]


def test_min_rating(tmp_path: Path) -> None:
    raw = make(CsvDataset, path=write(ROWS, tmp_path / "d.csv"), min_rating=3.5).load()
    assert raw.interactions["rating"].tolist() == [5.0, 4.0, 3.5]


def test_date_timestamps_become_seconds(tmp_path: Path) -> None:
    df = ROWS.assign(when=["1970-01-01", "1970-01-02", "2020-01-01T00:00:00", "1970-01-01"])
    raw = make(CsvDataset, path=write(df, tmp_path / "d.csv")).load()
    assert raw.interactions["timestamp"].tolist() == [0, 86400, 1577836800, 0]


@pytest.mark.parametrize(("kind", "ext"), [(CsvDataset, ".csv"), (ParquetDataset, ".parquet")])
def test_presplit_files(tmp_path: Path, kind: type[TabularDataset], ext: str) -> None:
    paths = {name: write(ROWS.iloc[rows], tmp_path / f"{name}{ext}")
             for name, rows in (("train", [0, 1]), ("valid", [2]), ("test", [3]))}
    inter = make(kind, **paths).load().interactions
    assert inter["split"].tolist() == ["train", "train", "valid", "test"]
    assert inter["item"].tolist() == [1, 2, 1, 3]


def test_presplit_train_only(tmp_path: Path) -> None:
    inter = make(CsvDataset, train=write(ROWS, tmp_path / "t.csv")).load().interactions
    assert set(inter["split"]) == {"train"}


@pytest.mark.parametrize(("kind", "ext"), [(CsvDataset, ".csv"), (ParquetDataset, ".parquet")])
def test_feature_files(tmp_path: Path, kind: type[TabularDataset], ext: str) -> None:
    users = pd.DataFrame({"age": [30, 40], "uid": ["a", "b"]})
    items = pd.DataFrame({"movie": [1, 2, 3], "genre": ["x", "y", "z"]})
    raw = make(kind, path=write(ROWS, tmp_path / f"d{ext}"),
               user_features=write(users, tmp_path / f"u{ext}"),
               item_features=write(items, tmp_path / f"i{ext}")).load()
    assert raw.user_features is not None and raw.item_features is not None
    assert raw.user_features.loc["b", "age"] == 40
    assert list(raw.user_features.columns) == ["age"]
    assert raw.item_features.loc[3, "genre"] == "z"


@pytest.mark.parametrize(("kind", "ext"), [(CsvDataset, ".csv"), (ParquetDataset, ".parquet")])
def test_missing_column(tmp_path: Path, kind: type[TabularDataset], ext: str) -> None:
    path = write(ROWS, tmp_path / f"data{ext}")
    with pytest.raises(DataError) as err:
        make(kind, path=path, rating_col="rating").load()
    message = str(err.value)
    assert "'rating'" in message and path in message
    assert "uid" in message and "stars" in message  # lists the columns that exist


def test_missing_feature_id_column(tmp_path: Path) -> None:
    items = write(pd.DataFrame({"id": [1]}), tmp_path / "i.csv")
    with pytest.raises(DataError, match="'movie'"):
        make(CsvDataset, path=write(ROWS, tmp_path / "d.csv"), item_features=items).load()


@pytest.mark.parametrize("key", ["path", "train", "user_features"])
def test_missing_file(tmp_path: Path, key: str) -> None:
    data = write(ROWS, tmp_path / "d.csv")
    missing = str(tmp_path / "nope.csv")
    kwargs = {"path": data, key: missing} if key != "train" else {"train": missing}
    with pytest.raises(DataError) as err:
        make(CsvDataset, **kwargs).load()
    assert key in str(err.value) and missing in str(err.value)


def test_header_only_file(tmp_path: Path) -> None:
    path = write(ROWS.iloc[:0], tmp_path / "d.csv")
    with pytest.raises(DataError, match="no rows") as err:
        make(CsvDataset, path=path).load()
    assert path in str(err.value)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("")
    with pytest.raises(DataError, match="empty"):
        CsvDataset(path=str(path)).load()


def test_empty_parquet(tmp_path: Path) -> None:
    path = write(ROWS.iloc[:0], tmp_path / "d.parquet")
    with pytest.raises(DataError, match="no rows"):
        make(ParquetDataset, path=path).load()


def test_not_a_parquet_file(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    path.write_text("uid,movie\n1,2\n")
    with pytest.raises(DataError, match="Parquet"):
        make(ParquetDataset, path=str(path)).load()


def test_non_numeric_rating(tmp_path: Path) -> None:
    path = write(ROWS.assign(stars=["5", "good", "1", "2"]), tmp_path / "d.csv")
    with pytest.raises(DataError, match="good"):
        make(CsvDataset, path=path).load()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"path": "a.csv", "train": "b.csv"},
        {"path": "a.csv", "test": "b.csv"},
        {"path": "a.csv", "user_col": ""},
        {"path": "a.csv", "user_col": "x", "item_col": "x"},
        {"path": "a.csv", "min_rating": 3},
        {"path": "a.csv", "sep": ""},
    ],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        CsvDataset(**kwargs)  # type: ignore[arg-type]


def test_constructor_does_no_io() -> None:
    ParquetDataset(train="missing/train.parquet", test="missing/test.parquet")


def test_ids_survive_as_numbers(tmp_path: Path) -> None:
    df = pd.DataFrame({"user_id": np.arange(5), "item_id": np.arange(5) * 10})
    inter = ParquetDataset(path=write(df, tmp_path / "d.parquet")).load().interactions
    assert inter["item"].dtype == np.int64
