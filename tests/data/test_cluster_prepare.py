"""``prepare.engine: ray`` writes what the pandas engine writes, byte for byte: MovieLens-100K
from Parquet (row groups read in parallel, item features, cold users and items held out),
and CSV files with text ids, repeated pairs, ties in time and a ready-made split; a row
without an id, or a file a read task cannot read, gets the pandas engine's message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from raytrec.data.cluster.prepare import prepare_on_cluster
from raytrec.data.delimited import CsvDataset
from raytrec.data.movielens import MovieLens100K
from raytrec.data.prepare import prepare
from raytrec.data.splits import SplitConfig
from raytrec.data.tabular import ParquetDataset, TabularDataset
from raytrec.errors import DataError

pytestmark = pytest.mark.usefixtures("ray_cluster")


def _same_files(dataset: TabularDataset, split: SplitConfig, tmp_path: Path) -> None:
    prepare(dataset.load(), split, tmp_path / "pandas")
    prepare_on_cluster(dataset, split, tmp_path / "ray")
    written = sorted(f.name for f in (tmp_path / "pandas").iterdir())
    assert written == sorted(f.name for f in (tmp_path / "ray").iterdir())
    for name in written:
        ours, theirs = tmp_path / "pandas" / name, tmp_path / "ray" / name
        assert ours.read_bytes() == theirs.read_bytes(), f"{name} differs between the engines"


def test_movielens_from_parquet_with_features_and_hold_outs(tmp_path: Path) -> None:
    raw = MovieLens100K().load()
    inter = raw.interactions.rename(columns={"user": "u", "item": "i"})
    inter.to_parquet(tmp_path / "ratings.parquet", row_group_size=20_000)  # 5 read tasks
    genres = raw.item_features[["genres"]].reset_index(names="i")
    genres.to_parquet(tmp_path / "items.parquet")
    dataset = ParquetDataset(path=str(tmp_path / "ratings.parquet"), user_col="u", item_col="i",
                             rating_col="rating", timestamp_col="timestamp",
                             item_features=str(tmp_path / "items.parquet"))
    _same_files(dataset, SplitConfig(seed=5, cold_users=0.1, cold_items=0.05), tmp_path)


def _events(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"user_id": "u" + pd.Series(rng.integers(0, 150, n)).astype(str),
                         "item_id": rng.integers(0, 400, n).astype(str),  # plain: int64 ids
                         "stars": rng.integers(1, 6, n), "when": rng.integers(0, 300, n)})


@pytest.mark.parametrize("split", [SplitConfig(method="temporal", seed=2, cold_items=0.1),
                                   SplitConfig(method="leave-last-out", seed=2)])
def test_csv_with_text_ids_repeated_pairs_and_ties(split: SplitConfig, tmp_path: Path) -> None:
    _events().to_csv(tmp_path / "events.csv", index=False)
    dataset = CsvDataset(path=str(tmp_path / "events.csv"), rating_col="stars",
                         timestamp_col="when", min_rating=2)
    _same_files(dataset, split, tmp_path)


def test_a_ready_made_split(tmp_path: Path) -> None:
    events = _events()
    files = {}
    parts = (events.iloc[:3000], events.iloc[3000:3500], events.iloc[3500:])
    for name, part in zip(("train", "valid", "test"), parts, strict=True):
        part.to_csv(tmp_path / f"{name}.csv", index=False)
        files[name] = str(tmp_path / f"{name}.csv")
    _same_files(CsvDataset(**files, timestamp_col="when"), SplitConfig(), tmp_path)


def test_a_row_without_an_id_gets_the_pandas_message(tmp_path: Path) -> None:
    events = _events(n=300)
    events.loc[[7, 120, 121], "item_id"] = None
    events.to_parquet(tmp_path / "events.parquet", row_group_size=100)
    dataset = ParquetDataset(path=str(tmp_path / "events.parquet"))
    with pytest.raises(DataError) as pandas_error:
        prepare(dataset.load(), SplitConfig(), tmp_path / "pandas")
    with pytest.raises(DataError) as ray_error:
        prepare_on_cluster(dataset, SplitConfig(), tmp_path / "ray")
    assert str(ray_error.value) == str(pandas_error.value)
    assert "rows 8, 121, 122" in str(ray_error.value)
    assert not (tmp_path / "ray").exists() and not (tmp_path / "ray.partial").exists()


def test_a_file_a_read_task_cannot_read_gets_the_pandas_message(tmp_path: Path) -> None:
    """Raised inside a Ray Data stage, the ``DataError`` arrives as itself, not as Ray Data's
    wrapper without its cause."""
    (tmp_path / "d.csv").write_bytes(b"user_id,item_id\n1,caf\xe9\n" +
                                     b"".join(b"%d,x%d\n" % (u, u) for u in range(2, 60)))
    dataset = CsvDataset(path=str(tmp_path / "d.csv"))
    with pytest.raises(DataError) as pandas_error:
        dataset.load()
    with pytest.raises(DataError) as ray_error:
        prepare_on_cluster(dataset, SplitConfig(), tmp_path / "ray")
    assert str(ray_error.value) == str(pandas_error.value)
    assert "not utf-8 text" in str(ray_error.value)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_folder_of_parts(kind: str, tmp_path: Path) -> None:
    """Parts in partition folders beside Spark's markers, each part a read task (a Parquet
    part in two row groups, two tasks)."""
    from tests.data.test_folders import spark_folder

    if kind == "csv":
        spark_folder(_events(), tmp_path / "events", lambda f, p: f.to_csv(p, index=False))
        dataset: TabularDataset = CsvDataset(path=str(tmp_path / "events"),
                                             timestamp_col="when", rating_col="stars")
    else:
        spark_folder(_events(), tmp_path / "events",
                     lambda f, p: f.to_parquet(p, index=False, row_group_size=700))
        dataset = ParquetDataset(path=str(tmp_path / "events"), timestamp_col="when")
    _same_files(dataset, SplitConfig(method="leave-last-out", seed=4), tmp_path)
