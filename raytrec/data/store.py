"""Reading the prepared layout: training shards as tensors, eval splits as per-user lists."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from raytrec.data.base import ITEM, RATING, USER, DataInfo
from raytrec.errors import DataError


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


def read_train_shard(data_dir: Path, rank: int, world: int) -> tuple[np.ndarray, np.ndarray]:
    """This worker's share of train: whole row groups when there are enough, else a row slice."""
    users, items = _shard_columns(data_dir, rank, world, [USER, ITEM])
    return users, items


def read_train_ratings(data_dir: Path, rank: int, world: int) -> np.ndarray | None:
    """The ratings of this worker's share (same rows as ``read_train_shard``), if any."""
    if RATING not in pq.ParquetFile(_file(data_dir, "train.parquet")).schema_arrow.names:
        return None
    return _shard_columns(data_dir, rank, world, [RATING])[0]


def _shard_columns(data_dir: Path, rank: int, world: int, columns: list[str]) -> list[np.ndarray]:
    pf = pq.ParquetFile(_file(data_dir, "train.parquet"))
    if pf.num_row_groups >= world:
        table = pf.read_row_groups(list(range(rank, pf.num_row_groups, world)), columns=columns)
        return [table[c].to_numpy() for c in columns]
    table = pq.read_table(_file(data_dir, "train.parquet"), columns=columns)
    return [table[c].to_numpy()[rank::world] for c in columns]


def read_training_info(data_dir: Path) -> DataInfo:
    """``read_info`` plus every training pair and the feature tables: what components set
    themselves up from."""
    info = read_info(data_dir)
    info.positives = read_user_items(data_dir, "train", info.num_users)
    info.user_features = read_features(data_dir, "user")
    info.item_features = read_features(data_dir, "item")
    return info


def read_features(data_dir: Path, kind: str) -> pd.DataFrame | None:
    """The ``user`` or ``item`` feature table, row i for index i, or None."""
    path = Path(data_dir) / f"{kind}_features.parquet"
    if not path.exists():
        return None
    return pq.read_table(path).to_pandas().set_index("index").sort_index()


def read_user_items(data_dir: Path, split: str, num_users: int) -> UserItems:
    users, items = read_pairs(data_dir, split)
    return UserItems.from_pairs(users, items, num_users)
