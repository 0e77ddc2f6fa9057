"""``prepare.engine: auto``: which engine prepares a dataset, decided before it is read.

The pandas engine holds the whole table on the driver: measured at about 290 bytes per
interaction at its peak with 10M rows and 269 with 50M (``benchmarks/prepare_engines.py``,
benchmarks/README.md). ``auto`` picks ``ray`` when that would take more than half the memory
free on the driver, and the task and dataset can be prepared on the cluster; else
``pandas``, which needs no cluster and is the faster on a small table (4x at 1M rows).

Rows are counted where that is cheap: exactly from Parquet footers, and for a plain CSV file
from its size and the mean length of its first lines. A compressed CSV's rows are not known
before it is read, so ``auto`` leaves it to pandas (set ``engine: ray`` for it).
"""

from __future__ import annotations

import pyarrow.parquet as pq

from raytrec.data.base import Dataset
from raytrec.data.delimited import CsvDataset
from raytrec.data.files import compression
from raytrec.data.tabular import ParquetDataset, TabularDataset
from raytrec.errors import DataError
from raytrec.memory import available_memory

PANDAS_BYTES_PER_ROW = 300
SAMPLE_BYTES = 1 << 20


def estimated_rows(dataset: TabularDataset) -> int | None:
    """Interactions in ``dataset``'s files, exactly or about; None when not known unread."""
    total = 0
    try:
        files = dataset.interaction_files()
    except DataError:
        return None  # the preparation says what is wrong with them
    for _, path in files:
        if isinstance(dataset, ParquetDataset):
            try:
                total += pq.ParquetFile(path).metadata.num_rows
            except Exception:  # not Parquet: the preparation says so
                return None
        elif isinstance(dataset, CsvDataset) and compression(path) is None:
            with open(path, "rb") as fh:
                sample = fh.read(SAMPLE_BYTES)
            lines = sample.count(b"\n")
            if not lines:
                return None
            total += round(path.stat().st_size / (len(sample) / lines))
        else:
            return None
    return total


def chosen_engine(dataset: Dataset, on_cluster: bool) -> str:
    """``ray`` or ``pandas`` for ``prepare.engine: auto``."""
    if not on_cluster or not isinstance(dataset, TabularDataset):
        return "pandas"
    rows, free = estimated_rows(dataset), available_memory()
    if rows is None or free is None:
        return "pandas"
    return "ray" if rows * PANDAS_BYTES_PER_ROW > free // 2 else "pandas"
