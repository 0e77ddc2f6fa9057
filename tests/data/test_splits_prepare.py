"""Splits are deterministic and follow their protocol; prepare maps ids and writes shards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from raytrec.data.base import RawData
from raytrec.data.prepare import prepare
from raytrec.data.splits import SplitConfig, split_interactions
from raytrec.data.store import read_info, read_train_rows
from raytrec.errors import DataError


def _frame(n_users: int = 40, per_user: int = 10, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(500, per_user, replace=False) for _ in range(n_users)])
    return pd.DataFrame({"user": users, "item": items,
                         "timestamp": rng.permutation(len(users)).astype(float)})


def test_ratio_split_is_deterministic_and_per_user() -> None:
    df = _frame()
    a = split_interactions(df, SplitConfig(seed=3))
    assert (a == split_interactions(df, SplitConfig(seed=3))).all()
    assert (a != split_interactions(df, SplitConfig(seed=4))).any()
    per_user = pd.crosstab(df["user"], a)
    assert (per_user[0] == 6).all() and (per_user[1] == 2).all() and (per_user[2] == 2).all()


def test_small_users_stay_in_train() -> None:
    df = pd.DataFrame({"user": [0, 0, 0, 0, 1, 1, 1, 1, 1], "item": range(9)})
    codes = split_interactions(df, SplitConfig(min_user_interactions=5))
    assert (codes[:4] == 0).all() and (codes[4:] != 0).any()


def test_leave_last_out_takes_latest() -> None:
    df = _frame(n_users=5, per_user=6)
    codes = split_interactions(df, SplitConfig(method="leave-last-out"))
    for _, group in df.assign(code=codes).groupby("user"):
        ordered = group.sort_values("timestamp")["code"].tolist()
        assert ordered[-1] == 2 and ordered[-2] == 1 and set(ordered[:-2]) == {0}


def test_temporal_split_cuts_globally() -> None:
    df = _frame()
    codes = split_interactions(df, SplitConfig(method="temporal"))
    ts = df["timestamp"].to_numpy()
    assert ts[codes == 0].max() < ts[codes == 1].min() < ts[codes == 2].min()


def test_bad_ratios_rejected() -> None:
    with pytest.raises(ValueError, match="ratios"):
        SplitConfig(ratios=[0.5, 0.5, 0.5])


def test_prepare_maps_ids_dedupes_and_shards(tmp_path: Path) -> None:
    df = pd.DataFrame({"user": ["b", "a", "a", "c", "a"], "item": [10, 20, 20, 30, 10]})
    info = prepare(RawData(df, name="t"), SplitConfig(min_user_interactions=99), tmp_path / "d")
    assert info["num_users"] == 3 and info["num_items"] == 3
    assert sum(info["num_interactions"].values()) == 4  # (a, 20) once
    users = pq.read_table(tmp_path / "d" / "users.parquet").to_pandas()
    assert users["id"].tolist() == ["a", "b", "c"]
    shards = [read_train_rows(tmp_path / "d", r, 2) for r in range(2)]
    assert sum(len(u) for u, _, _ in shards) == 4
    assert read_info(tmp_path / "d").item_counts.sum() == 4


def test_prepare_refuses_empty_and_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no interactions"):
        prepare(RawData(pd.DataFrame({"user": [], "item": []}), name="t"), SplitConfig(),
                tmp_path / "d")
    with pytest.raises(DataError, match="no user column"):
        prepare(RawData(pd.DataFrame({"item": [1]}), name="t"), SplitConfig(), tmp_path / "d")
    assert not (tmp_path / "d").exists()


def test_cold_users_go_entirely_to_test_and_leave_the_rest_unchanged() -> None:
    df = _frame(n_users=50)
    warm = split_interactions(df, SplitConfig(seed=2))
    codes = split_interactions(df, SplitConfig(seed=2, cold_users=0.1))
    per_user = pd.DataFrame({"user": df["user"], "code": codes}).groupby("user")["code"]
    cold = [u for u, c in per_user if (c == 2).all()]
    assert len(cold) == 5
    changed = codes != warm
    assert set(df["user"][changed]) <= set(cold)
    with pytest.raises(ValueError, match="cold_users"):
        SplitConfig(cold_users=1.0)


def test_cold_items_have_no_training_or_validation_rows_and_leave_the_rest_unchanged() -> None:
    df = _frame(n_users=50)
    warm = split_interactions(df, SplitConfig(seed=2))
    codes = split_interactions(df, SplitConfig(seed=2, cold_items=0.2))
    per_item = pd.DataFrame({"item": df["item"], "code": codes}).groupby("item")["code"]
    cold = {i for i, c in per_item if (c == 2).all()}
    held = {i for i, c in pd.DataFrame({"item": df["item"], "code": warm}).groupby("item")[
        "code"] if (c == 2).all()}
    # Items whose every row fell to test by chance are cold either way.
    assert len(cold) >= round(0.2 * df["item"].nunique()) > len(held)
    changed = codes != warm
    assert changed.any() and set(df["item"][changed]) <= cold
    with pytest.raises(ValueError, match="cold_items"):
        SplitConfig(cold_items=-0.1)


def test_a_hold_out_of_data_that_comes_split_is_refused(tmp_path: Path) -> None:
    df = pd.DataFrame({"user": [0, 0, 1], "item": [0, 1, 1], "split": ["train", "test", "train"]})
    for key in ("cold_items", "cold_users"):
        with pytest.raises(DataError, match=f"split.{key} holds rows out of a split raytrec "
                                            "makes, but t comes split already"):
            prepare(RawData(df, name="t"), SplitConfig(**{key: 0.5}), tmp_path / "d")
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("split", [
    SplitConfig(seed=7, cold_users=0.1, cold_items=0.05),
    SplitConfig(method="leave-last-out", seed=7, cold_items=0.05),
    SplitConfig(method="temporal", seed=7, cold_users=0.1)])
def test_the_prepared_files_do_not_depend_on_the_order_of_the_rows(split: SplitConfig,
                                                                   tmp_path: Path) -> None:
    """What an engine that reads files in parallel needs to write what pandas writes: the
    same interactions in another order (text ids, a repeated pair, ties in time) give the
    same files, byte for byte."""
    df = _frame(n_users=60, per_user=12)
    df["user"] = "u" + df["user"].astype(str)
    df["timestamp"] = df["timestamp"] // 3  # ties, broken by the rows' keys
    again = df.iloc[[5, 17]].assign(timestamp=df["timestamp"].max() + 1)  # merged away
    frames = [pd.concat([df, again], ignore_index=True)]
    frames.append(frames[0].sample(frac=1.0, random_state=1).reset_index(drop=True))
    written = []
    for n, frame in enumerate(frames):
        prepare(RawData(frame, name="shuffled"), split, tmp_path / str(n))
        written.append({f.name: f.read_bytes() for f in sorted((tmp_path / str(n)).iterdir())})
    assert written[0].keys() == written[1].keys()
    for name, data in written[0].items():
        assert data == written[1][name], f"{name} differs with the rows in another order"
    held = pq.read_table(tmp_path / "0" / "test.parquet").num_rows
    assert 0 < held < len(df)
