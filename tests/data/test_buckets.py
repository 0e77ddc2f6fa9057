"""The prepared splits in user buckets: worker ``part`` of ``parts`` reads only the row
groups that can hold its users — a quarter of each file at 4 workers, all of it at 3 — and
gets every user's training rows from ``user_counts.npy``, without reading the others'."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from raytrec.data import buckets, store
from raytrec.data.base import RawData
from raytrec.data.prepare import prepare
from raytrec.data.splits import SplitConfig


def prepared(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    users = np.repeat(np.arange(700), rng.integers(3, 12, 700))
    frame = pd.DataFrame({"user": users, "item": rng.integers(0, 300, len(users))})
    prepare(RawData(frame, name="t"), SplitConfig(seed=2), tmp_path / "d")
    return tmp_path / "d"


def groups_read(data_dir: Path, split: str, part: int, parts: int) -> list[np.ndarray]:
    return [t["user"].to_numpy() for t in store._row_groups(data_dir, split, ["user"], part,
                                                             parts)]


@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_a_worker_reads_the_row_groups_of_its_buckets(tmp_path: Path, split: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buckets, "GROUP_ROWS", 6)  # several row groups per bucket
    data_dir = prepared(tmp_path)
    every = pq.read_table(data_dir / f"{split}.parquet")["user"].to_numpy()
    meta = pq.ParquetFile(data_dir / f"{split}.parquet").metadata
    sizes = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
    assert max(sizes) == 6 and meta.num_row_groups > buckets.BUCKETS
    for group in range(meta.num_row_groups):  # no row group spans two buckets
        users = pq.ParquetFile(data_dir / f"{split}.parquet").read_row_group(group)["user"]
        assert len(set(users.to_numpy() % buckets.BUCKETS)) == 1
    for parts in (2, 4):
        read = [np.concatenate(groups_read(data_dir, split, p, parts)) for p in range(parts)]
        for part, users in enumerate(read):
            assert (users % parts == part).all()  # its own users, and only theirs
        assert sorted(np.concatenate(read).tolist()) == sorted(every.tolist())
    # 3 workers share no factor with the 64 buckets: each reads the whole file.
    assert sum(map(len, groups_read(data_dir, split, 1, 3))) == len(every)


def test_every_users_training_rows_without_reading_theirs(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    data_dir = prepared(tmp_path)
    train = pq.read_table(data_dir / "train.parquet")["user"].to_numpy()
    info = json.loads((data_dir / "info.json").read_text())
    expected = np.bincount(train, minlength=info["num_users"])
    assert np.array_equal(np.load(data_dir / "user_counts.npy"), expected)
    assert info["buckets"]["train"] == np.bincount(train % 64, minlength=64).tolist()
    read = []
    original = store._row_groups

    def counted(*args, **kwargs):
        for table in original(*args, **kwargs):
            read.append(table.num_rows)
            yield table

    monkeypatch.setattr(store, "_row_groups", counted)
    found = store.read_training_info(data_dir, 3, 4)
    assert np.array_equal(found.query_counts, expected)
    assert sum(read) == (train % 4 == 3).sum()  # a quarter of train, nothing more
    # Data prepared before the buckets: the whole file is read, to the same result.
    del info["buckets"]
    (data_dir / "info.json").write_text(json.dumps(info))
    (data_dir / "user_counts.npy").unlink()
    read.clear()
    older = store.read_training_info(data_dir, 3, 4)
    assert sum(read) == 2 * len(train)  # its part, then every user's count
    assert np.array_equal(older.query_counts, expected)
    assert np.array_equal(older.positives.indices, found.positives.indices)
