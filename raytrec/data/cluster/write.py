"""The last stage: one split's rows, sorted, written by one task into the single Parquet
file the pandas engine writes, with the same row groups and so the same bytes. The task takes
the blocks in order, one at a time; the driver passes references only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import ray

from raytrec.data.base import ITEM
from raytrec.data.prepare import _write_features
from raytrec.data.tabular import TabularDataset


def _frame(block: object, columns: dict[str, str]) -> pd.DataFrame:
    """The block as the pandas engine's table: these columns, these dtypes, built alike (so
    that the pandas metadata Parquet keeps is the same)."""
    from ray.data.block import BlockAccessor

    found = BlockAccessor.for_block(block).to_pandas()
    return pd.DataFrame({name: found[name].to_numpy(dtype=dtype)
                         for name, dtype in columns.items()})


@ray.remote
def write_split(refs: list[ray.ObjectRef], path: str, columns: dict[str, str], rows: int,
                group_rows: int, num_items: int) -> np.ndarray:
    """Write the ``rows`` rows of ``refs`` (in order) to ``path`` in row groups of
    ``group_rows``; returns how many rows each item has."""
    counts = np.zeros(num_items, dtype=np.int64)
    empty = pd.DataFrame({name: np.empty(0, dtype=dtype) for name, dtype in columns.items()})
    schema = pa.Table.from_pandas(empty, preserve_index=False).schema
    pending: list[pd.DataFrame] = []
    held = written = 0
    with pq.ParquetWriter(path, schema) as writer:
        def flush(frame: pd.DataFrame) -> None:
            writer.write_table(pa.Table.from_pandas(frame, preserve_index=False),
                               row_group_size=group_rows)

        for ref in refs:
            frame = _frame(ray.get(ref), columns)
            counts += np.bincount(frame[ITEM].to_numpy(), minlength=num_items)
            pending.append(frame)
            held += len(frame)
            while held >= group_rows:
                whole = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
                flush(whole.iloc[:group_rows].reset_index(drop=True))
                rest = whole.iloc[group_rows:].reset_index(drop=True)
                pending, held, written = [rest], len(rest), written + group_rows
        if held:
            flush(pd.concat(pending, ignore_index=True))
            written += held
        if not written:
            writer.write_table(pa.Table.from_pandas(empty, preserve_index=False))
    if written != rows:
        raise RuntimeError(f"{path}: wrote {written} rows of {rows}")
    return counts


@ray.remote
def write_ids(refs: list[ray.ObjectRef], column: str, index: str, path: str,
              dataset: TabularDataset, kind: str, features_path: str) -> dict[str, object] | None:
    """``users.parquet`` or ``items.parquet`` as the pandas engine writes it, from rows
    numbered by ``ids.numbered`` (``refs``, in order: ``column`` the id, ``index`` its
    index); and the ``kind``'s feature file aligned to them when the dataset has one (what
    ``_write_features`` returns)."""
    from ray.data.block import BlockAccessor

    parts, last = [], -1
    for ref in refs:
        frame = BlockAccessor.for_block(ray.get(ref)).to_pandas()[[column, index]]
        frame = frame[frame[index] > last].drop_duplicates(subset=[index])
        if len(frame):
            parts.append(frame[column].to_numpy())
            last = int(frame[index].iloc[-1])
    ids = pd.Index(np.concatenate(parts)) if parts else pd.Index([])
    pq.write_table(pa.table({"index": np.arange(len(ids), dtype=np.int64),
                             "id": ids.to_numpy()}), path)
    id_column = dataset.user_col if kind == "user" else dataset.item_col
    frame = dataset._features(f"{kind}_features", id_column)
    return _write_features(Path(features_path), frame, ids)
