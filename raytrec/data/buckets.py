"""The prepared splits in user buckets, so that a worker reads its own users' rows only.

``train|valid|test.parquet`` hold the rows of the users ``u % BUCKETS == b`` together, bucket
after bucket, each bucket in row groups of its own (of at most ``GROUP_ROWS`` rows); train
in its keyed order within a bucket, valid and test by user. ``info.json``'s ``buckets`` gives
the rows per row group and each split's rows per bucket, from which a reader finds a
bucket's row groups.

Worker ``part`` of ``parts`` holds the users ``u % parts == part``. They all lie in the
buckets ``b`` with ``b % g == part % g``, ``g = gcd(BUCKETS, parts)``, so the worker reads
``1/g`` of each file: exactly its share when ``parts`` divides ``BUCKETS`` (1, 2, 4 … 64
workers), the whole file when the two share no factor (3 workers).
"""

from __future__ import annotations

from math import gcd
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from raytrec.data.base import USER

BUCKETS = 64
GROUP_ROWS = 1 << 20
BUCKET = "_user_bucket"  # the sort key the ray engine adds; never written


def buckets_of(users: np.ndarray | pd.Series) -> np.ndarray:
    return np.asarray(users, dtype=np.int64) % BUCKETS


class BucketWriter:
    """One split's Parquet file from frames sorted by bucket (first) and in their final order
    within a bucket: a row group ends where a bucket ends or at ``GROUP_ROWS`` rows. Both
    engines write through it, so the same rows give the same bytes."""

    def __init__(self, path: Path | str, columns: dict[str, str]) -> None:
        self.columns, self.group_rows = columns, GROUP_ROWS
        empty = pd.DataFrame({name: np.empty(0, dtype=dtype) for name, dtype in columns.items()})
        self._empty = pa.Table.from_pandas(empty, preserve_index=False)
        self._writer = pq.ParquetWriter(str(path), self._empty.schema)
        self._pending: list[pd.DataFrame] = []
        self._held, self._bucket = 0, -1
        self.sizes = np.zeros(BUCKETS, dtype=np.int64)

    def write(self, frame: pd.DataFrame) -> None:
        frame = pd.DataFrame({name: frame[name].to_numpy(dtype=dtype)
                              for name, dtype in self.columns.items()})
        if not len(frame):
            return
        buckets = buckets_of(frame[USER])
        self.sizes += np.bincount(buckets, minlength=BUCKETS)
        starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
        for start, end in zip(starts, [*starts[1:], len(frame)], strict=True):
            if buckets[start] != self._bucket:
                self._flush()
                self._bucket = int(buckets[start])
            run = frame.iloc[start:end]
            while len(run):
                room = self.group_rows - self._held
                self._pending.append(run.iloc[:room])
                self._held += len(self._pending[-1])
                run = run.iloc[room:]
                if self._held == self.group_rows:
                    self._flush()

    def _flush(self) -> None:
        if not self._held:
            return
        whole = pd.concat(self._pending, ignore_index=True) if len(self._pending) > 1 else \
            self._pending[0].reset_index(drop=True)
        self._writer.write_table(pa.Table.from_pandas(whole, preserve_index=False),
                                 row_group_size=self.group_rows)
        self._pending, self._held = [], 0

    def close(self) -> list[int]:
        """Finish the file; its rows per bucket."""
        self._flush()
        if not self.sizes.sum():
            self._writer.write_table(self._empty)
        self._writer.close()
        return self.sizes.tolist()


def groups_of_part(buckets: dict[str, Any], split: str, num_groups: int, part: int,
                   parts: int) -> list[int]:
    """The row groups of ``split``'s file that may hold users of ``part`` of ``parts``, from
    ``info.json``'s ``buckets`` (``group_rows``; each split's rows per bucket, as many
    buckets as it lists): all of them where the data has no buckets or its row groups do
    not match them."""
    every = list(range(num_groups))
    sizes, group_rows = buckets.get(split), buckets.get("group_rows")
    if not sizes or not group_rows or parts == 1:
        return every
    common = gcd(len(sizes), parts)
    found, group = [], 0
    for bucket, size in enumerate(sizes):
        count = -(-int(size) // int(group_rows))
        if bucket % common == part % common:
            found += range(group, group + count)
        group += count
    return found if group == num_groups else every
