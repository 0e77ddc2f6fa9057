"""``prepare.engine: auto``: rows counted before reading (Parquet footers exactly, plain CSV by
its size and first lines), and ``ray`` only where pandas would not fit the driver."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from raytrec.data.delimited import CsvDataset
from raytrec.data.engine import PANDAS_BYTES_PER_ROW, chosen_engine, estimated_rows
from raytrec.data.synthetic import SyntheticDataset
from raytrec.data.tabular import ParquetDataset

ROWS = 20_000


def _events() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"user_id": rng.integers(0, 10**6, ROWS),
                         "item_id": rng.integers(0, 10**4, ROWS)})


def test_rows_are_counted_before_reading(tmp_path: Path) -> None:
    events = _events()
    events.to_parquet(tmp_path / "e.parquet", row_group_size=3000)
    events.iloc[:500].to_parquet(tmp_path / "v.parquet")
    assert estimated_rows(ParquetDataset(train=str(tmp_path / "e.parquet"),
                                         valid=str(tmp_path / "v.parquet"))) == ROWS + 500
    events.to_csv(tmp_path / "e.csv", index=False)
    assert estimated_rows(CsvDataset(path=str(tmp_path / "e.csv"))) == pytest.approx(ROWS,
                                                                                   rel=0.05)
    (tmp_path / "e.csv.gz").write_bytes(gzip.compress((tmp_path / "e.csv").read_bytes()))
    assert estimated_rows(CsvDataset(path=str(tmp_path / "e.csv.gz"))) is None


def test_the_rows_of_a_folder_are_its_parts_rows(tmp_path: Path) -> None:
    (tmp_path / "e" / "day=1").mkdir(parents=True)
    events = _events()
    events.iloc[:7000].to_parquet(tmp_path / "e" / "day=1" / "part-0.parquet")
    events.iloc[7000:].to_parquet(tmp_path / "e" / "part-1.parquet", row_group_size=4000)
    (tmp_path / "e" / "_SUCCESS").write_bytes(b"")
    assert estimated_rows(ParquetDataset(path=str(tmp_path / "e"))) == ROWS


def test_ray_only_where_pandas_would_not_fit(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _events().to_parquet(tmp_path / "e.parquet")
    dataset = ParquetDataset(path=str(tmp_path / "e.parquet"))
    need = ROWS * PANDAS_BYTES_PER_ROW
    monkeypatch.setattr("raytrec.data.engine.available_memory", lambda: 2 * need + 2)
    assert chosen_engine(dataset, on_cluster=True) == "pandas"
    monkeypatch.setattr("raytrec.data.engine.available_memory", lambda: 2 * need - 2)
    assert chosen_engine(dataset, on_cluster=True) == "ray"
    assert chosen_engine(dataset, on_cluster=False) == "pandas"  # the task cannot
    assert chosen_engine(SyntheticDataset(num_users=10, num_items=10), True) == "pandas"
