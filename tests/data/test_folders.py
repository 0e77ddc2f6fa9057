"""A data option that names a folder, as Spark, Hive and Ray Data write a table: its data
files read in path order are one table, markers and checksums skipped; a folder that cannot
be one table gets a message naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from raytrec.data.delimited import CsvDataset
from raytrec.data.prepare import prepare
from raytrec.data.splits import SplitConfig
from raytrec.data.tabular import ParquetDataset
from raytrec.errors import DataError


def events(n: int = 900, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"user_id": "u" + pd.Series(rng.integers(0, 60, n)).astype(str),
                         "item_id": rng.integers(0, 150, n).astype(str),
                         "when": rng.integers(0, 100, n)})


def spark_folder(frame: pd.DataFrame, folder: Path, write) -> list[Path]:
    """``frame`` in three parts, two of them in partition folders, beside the files that
    Spark and Hadoop leave (``_SUCCESS``, ``.crc`` checksums, a ``_temporary`` folder) that
    are not data; the parts in the order the folder is read."""
    parts = [folder / "day=1" / "part-00000", folder / "day=1" / "part-00001",
             folder / "day=2" / "part-00000"]
    for path, rows in zip(parts, np.array_split(np.arange(len(frame)), 3), strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        write(frame.iloc[rows], path)
        (path.parent / f".{path.name}.crc").write_bytes(b"\x00crc")
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / "_temporary" / "0").mkdir(parents=True)
    (folder / "_temporary" / "0" / "part-00002").write_bytes(b"\x00half-written")
    return parts


def same_prepared(left: Path, right: Path) -> None:
    names = sorted(f.name for f in left.iterdir())
    assert names == sorted(f.name for f in right.iterdir())
    for name in names:
        assert (left / name).read_bytes() == (right / name).read_bytes(), name


def test_a_csv_folder_prepares_as_the_file_of_its_parts(tmp_path: Path) -> None:
    frame = events()
    spark_folder(frame, tmp_path / "events", lambda f, p: f.to_csv(p, index=False))
    frame.to_csv(tmp_path / "events.csv", index=False)
    split = SplitConfig(method="temporal", seed=3)
    prepare(CsvDataset(path=str(tmp_path / "events"), timestamp_col="when").load(), split,
            tmp_path / "from-folder")
    prepare(CsvDataset(path=str(tmp_path / "events.csv"), timestamp_col="when").load(), split,
            tmp_path / "from-file")
    same_prepared(tmp_path / "from-folder", tmp_path / "from-file")


def test_parquet_folders_for_a_ready_made_split(tmp_path: Path) -> None:
    frame = events().assign(item_id=lambda f: f["item_id"].astype(np.int64))
    for name, rows in (("train", frame.iloc[:700]), ("test", frame.iloc[700:])):
        spark_folder(rows, tmp_path / name, lambda f, p: f.to_parquet(p, index=False))
        rows.to_parquet(tmp_path / f"{name}.parquet", index=False)
    folders = ParquetDataset(train=str(tmp_path / "train"), test=str(tmp_path / "test"))
    files = ParquetDataset(train=str(tmp_path / "train.parquet"),
                           test=str(tmp_path / "test.parquet"))
    prepare(folders.load(), SplitConfig(), tmp_path / "from-folders")
    prepare(files.load(), SplitConfig(), tmp_path / "from-files")
    same_prepared(tmp_path / "from-folders", tmp_path / "from-files")


def test_a_row_without_an_id_is_named_by_its_part_and_line(tmp_path: Path) -> None:
    frame = events()
    frame.loc[[400, 401], "item_id"] = None  # lines 102 and 103 of the second part
    parts = spark_folder(frame, tmp_path / "events", lambda f, p: f.to_csv(p, index=False))
    with pytest.raises(DataError) as error:
        CsvDataset(path=str(tmp_path / "events")).load()
    assert str(error.value).startswith(f"csv dataset path: {parts[1]} has no item_id on 2 of "
                                       "300 rows (lines 102, 103)")


def test_a_folder_without_data_files(tmp_path: Path) -> None:
    (tmp_path / "events" / "_temporary").mkdir(parents=True)
    (tmp_path / "events" / "_SUCCESS").write_bytes(b"")
    with pytest.raises(DataError, match=r"csv dataset path: .*/events is a folder without "
                                        r"data files \(names that start with '\.' or '_' are "
                                        r"skipped\); point path: at a CSV file or a folder"):
        CsvDataset(path=str(tmp_path / "events")).load()


def test_parquet_parts_that_type_an_id_column_differently(tmp_path: Path) -> None:
    """``37`` in one part and ``"37"`` in another would be two users."""
    (tmp_path / "events").mkdir()
    frame = events(n=40)
    frame.iloc[:20].to_parquet(tmp_path / "events" / "a.parquet", index=False)
    later = frame.iloc[20:].assign(item_id=lambda f: f["item_id"].astype(np.int64))
    later.to_parquet(tmp_path / "events" / "b.parquet", index=False)
    # Text in another Arrow layout is text: only b's integers are refused.
    pq.write_table(pa.Table.from_pandas(frame.iloc[:10], preserve_index=False).cast(
        pa.schema([("user_id", pa.string()), ("item_id", pa.string()), ("when", pa.int64())])),
        tmp_path / "events" / "a0.parquet")
    with pytest.raises(DataError) as error:
        ParquetDataset(path=str(tmp_path / "events")).load()
    assert str(error.value) == (
        f"parquet dataset path: column 'item_id' is text in {tmp_path}/events/a.parquet but "
        f"int64 in {tmp_path}/events/b.parquet; write the folder's files with one type for "
        "each id column")
