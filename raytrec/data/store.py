"""Reading the prepared layout: training shards as tensors, eval splits as per-user lists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from raytrec.data.base import ITEM, RATING, USER, DataInfo
from raytrec.data.buckets import groups_of_part
from raytrec.data.prepare import USER_COUNTS
from raytrec.errors import DataError

# The most training pairs the driver holds at once: it reads larger data in parts of users.
PART_PAIRS = 1 << 22


@dataclass(frozen=True)
class UserItems:
    """Items per user in CSR form: items of user u are ``indices[indptr[u]:indptr[u+1]]``."""

    indptr: np.ndarray  # (U+1,) int64
    indices: np.ndarray  # (nnz,) int64, sorted within each user

    @classmethod
    def from_pairs(cls, users: np.ndarray, items: np.ndarray, num_users: int) -> UserItems:
        order = np.lexsort((items, users))
        counts = np.bincount(users, minlength=num_users)
        indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
        return cls(indptr, items[order].astype(np.int64))

    def counts(self) -> np.ndarray:
        return np.diff(self.indptr)

    def users(self) -> np.ndarray:
        """Users with at least one item."""
        return np.flatnonzero(self.counts() > 0)


    def contains(self, users: np.ndarray, ids: np.ndarray, num_items: int) -> np.ndarray:
        """``(B, K)`` bool: is ``ids[b, j]`` among the items of ``users[b]``."""
        counts = self.counts()[users]
        row = np.repeat(np.arange(len(users), dtype=np.int64), counts)
        starts = self.indptr[users]
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        items = self.indices[np.repeat(starts, counts) + offsets]
        keys = np.sort(row * (num_items + 1) + items)
        if len(keys) == 0:
            return np.zeros(ids.shape, dtype=bool)
        probe = np.arange(len(users), dtype=np.int64)[:, None] * (num_items + 1) + ids
        pos = np.searchsorted(keys, probe)
        return (pos < len(keys)) & (keys[np.minimum(pos, len(keys) - 1)] == probe) & (ids >= 0)

    def merge(self, other: UserItems) -> UserItems:
        n = len(self.indptr) - 1
        u = np.r_[np.repeat(np.arange(n), self.counts()), np.repeat(np.arange(n), other.counts())]
        return UserItems.from_pairs(u, np.r_[self.indices, other.indices], n)


def _file(data_dir: Path, name: str) -> Path:
    path = Path(data_dir) / name
    if not path.exists():
        raise DataError(f"{path} is missing: the data directory is incomplete; prepare it again")
    return path


def read_info(data_dir: Path) -> DataInfo:
    info = json.loads(_file(data_dir, "info.json").read_text())
    counts = np.load(_file(data_dir, "item_counts.npy"))
    return DataInfo(
        num_users=int(info["num_users"]),
        num_items=int(info["num_items"]),
        item_counts=counts.astype(np.int64),
        num_train=int(info["num_interactions"]["train"]),
        extra={"dataset": info.get("dataset", "")},
    )


def read_pairs(data_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    table = pq.read_table(_file(data_dir, f"{split}.parquet"), columns=[USER, ITEM])
    return table[USER].to_numpy(), table[ITEM].to_numpy()


def read_train_rows(data_dir: Path, part: int, parts: int, ratings: bool = False
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Users, items and (``ratings``, where the data has them) ratings of the training rows of
    the users ``u`` with ``u % parts == part``, in file order: worker ``part`` of ``parts``
    trains on its users' rows, so its batches' users are its own (the rows a worker owns of a
    table sharded by rows, ``raytrec.shards.table``, and the users it scores)."""
    names = pq.ParquetFile(_file(data_dir, "train.parquet")).schema_arrow.names
    columns = [USER, ITEM] + ([RATING] if ratings and RATING in names else [])
    found, _ = _rows_of_part(data_dir, "train", part, parts, columns)
    return found[0], found[1], found[2] if len(found) > 2 else None


def _rows_of_part(data_dir: Path, split: str, part: int, parts: int, columns: list[str],
                  num_users: int = 0, keep: bool = True) -> tuple[list[np.ndarray], np.ndarray]:
    """``columns`` (the first being the user) of ``split``'s rows of the users of ``part``
    (none unless ``keep``), read a row group at a time, so that a worker holds its part and
    one row group, never the whole file; and the rows of every user (``num_users`` at
    least) among the row groups read: every user's when all are read (``keep`` false)."""
    kept: list[list[np.ndarray]] = [[] for _ in columns]
    counts = np.zeros(num_users, dtype=np.int64)
    for table in _row_groups(data_dir, split, columns, part if keep else 0,
                             parts if keep else 1):
        users = table[USER].to_numpy()
        if len(users):
            counts = _added(counts, np.bincount(users))
        if not keep:
            continue
        mine = None if parts == 1 else users % parts == part
        for found, column in zip(kept, columns, strict=True):
            values = table[column].to_numpy()
            found.append(values if mine is None else values[mine])
    return [np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
            for found in kept], counts


def _row_groups(data_dir: Path, split: str, columns: list[str], part: int = 0,
                parts: int = 1) -> Iterator[pa.Table]:
    """``split``'s row groups that may hold users of ``part`` of ``parts``
    (``data.buckets``), one at a time."""
    pf = pq.ParquetFile(_file(data_dir, f"{split}.parquet"))
    groups = range(pf.num_row_groups)
    if parts > 1:
        buckets = json.loads(_file(data_dir, "info.json").read_text()).get("buckets") or {}
        groups = groups_of_part(buckets, split, pf.num_row_groups, part, parts)
    for group in groups:
        yield pf.read_row_group(group, columns=columns)


def rows_per_user(data_dir: Path, split: str, num_users: int = 0) -> np.ndarray:
    """The rows of each user in ``split`` (``num_users`` at least), read a row group at a
    time."""
    return _rows_of_part(data_dir, split, 0, 1, [USER], num_users, keep=False)[1]


def train_rows_per_user(data_dir: Path, num_users: int) -> np.ndarray:
    """Every user's training rows: ``user_counts.npy``, or a scan of train where the data
    was prepared without it."""
    path = Path(data_dir) / USER_COUNTS
    if path.is_file():
        return np.load(path).astype(np.int64)
    return rows_per_user(data_dir, "train", num_users)[:num_users]


def answered_users(data_dir: Path, split: str, num_users: int,
                   among: np.ndarray | None = None) -> np.ndarray:
    """The users with a row in ``split`` (whose item is among ``among``, a ``(num_items,)``
    mask, when given), sorted, read a row group at a time."""
    if among is None:
        return np.flatnonzero(rows_per_user(data_dir, split, num_users))
    found = np.zeros(num_users, dtype=bool)
    for table in _row_groups(data_dir, split, [USER, ITEM]):
        users, items = table[USER].to_numpy(), table[ITEM].to_numpy()
        found[users[among[items]]] = True
    return np.flatnonzero(found)


def _added(total: np.ndarray, more: np.ndarray) -> np.ndarray:
    if len(more) > len(total):
        total = np.r_[total, np.zeros(len(more) - len(total), dtype=np.int64)]
    total[:len(more)] += more
    return total


def read_training_info(data_dir: Path, part: int = 0, parts: int = 1) -> DataInfo:
    """``read_info`` plus the feature tables, the training rows of every user
    (``query_counts``) and, as ``positives``, the training items of the users ``u`` with
    ``u % parts == part`` (every user by default): what worker ``part`` of ``parts`` sets
    its components up from, trains and scores, holding its share of the pairs only."""
    info = read_info(data_dir)
    (users, items), counts = _rows_of_part(data_dir, "train", part, parts, [USER, ITEM],
                                           info.num_users)
    info.positives = UserItems.from_pairs(users, items, info.num_users)
    info.query_counts = train_rows_per_user(data_dir, info.num_users) if parts > 1 else \
        counts[:info.num_users]
    info.part = (part, parts)
    info.user_features = read_features(data_dir, "user")
    info.item_features = read_features(data_dir, "item")
    return info


def read_features(data_dir: Path, kind: str) -> pd.DataFrame | None:
    """The ``user`` or ``item`` feature table, row i for index i, or None."""
    path = Path(data_dir) / f"{kind}_features.parquet"
    if not path.exists():
        return None
    return pq.read_table(path).to_pandas().set_index("index").sort_index()


def read_user_items(data_dir: Path, split: str, num_users: int, part: int = 0,
                    parts: int = 1) -> UserItems:
    """``split``'s items of the users ``u % parts == part`` (every user by default)."""
    (users, items), _ = _rows_of_part(data_dir, split, part, parts, [USER, ITEM], num_users)
    return UserItems.from_pairs(users, items, num_users)


def parts_of(num_train: int) -> int:
    """In how many parts of users a process that reads for every worker (the driver's checks
    and baselines) reads the data, so as to hold at most ``PART_PAIRS`` training pairs."""
    return max(1, -(-int(num_train) // PART_PAIRS))
