"""The last stage: one split's rows, sorted, written by one task into the single Parquet
file the pandas engine writes, through the same ``BucketWriter`` and so with the same bytes.
The task takes the blocks in order, one at a time; the driver passes references only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import ray

from raytrec.data.base import ITEM, USER
from raytrec.data.buckets import BucketWriter
from raytrec.data.prepare import _write_features
from raytrec.data.tabular import TabularDataset


@ray.remote
def write_split(refs: list[ray.ObjectRef], path: str, columns: dict[str, str], rows: int,
                num_items: int, num_users: int, user_counts: str | None) -> dict[str, object]:
    """Write the ``rows`` rows of ``refs`` (in order, sorted by user bucket) to ``path``, and
    with ``user_counts`` the rows of each user there (``numpy.save``: a table of every user,
    which the driver need not hold); returns the rows of each item (``items``) and of each
    bucket (``buckets``), and the most rows of a row group (``group_rows``)."""
    from ray.data.block import BlockAccessor

    items = np.zeros(num_items, dtype=np.int64)
    users = np.zeros(num_users if user_counts else 0, dtype=np.int64)
    writer = BucketWriter(path, columns)
    for ref in refs:
        frame = BlockAccessor.for_block(ray.get(ref)).to_pandas()
        items += np.bincount(frame[ITEM].to_numpy(), minlength=num_items)
        if user_counts:
            users += np.bincount(frame[USER].to_numpy(), minlength=num_users)
        writer.write(frame)
    sizes = writer.close()
    if sum(sizes) != rows:
        raise RuntimeError(f"{path}: wrote {sum(sizes)} rows of {rows}")
    if user_counts:
        np.save(user_counts, users)
    return {"items": items, "buckets": sizes, "group_rows": writer.group_rows}


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
