"""check_task and check_dataset pass raytrec's own tasks and datasets and catch what a plugin
author got wrong, each on purpose here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from raytrec.data.base import Dataset, RawData
from raytrec.data.citeulike import CiteULike
from raytrec.data.delimited import CsvDataset
from raytrec.data.movielens import MovieLens100K
from raytrec.data.synthetic import SyntheticDataset
from raytrec.data.tabular import ParquetDataset
from raytrec.losses import LossOutput
from raytrec.tasks import Evaluation
from raytrec.tasks.user_item import UserItemTask
from raytrec.testing import ConformanceError, check_dataset, check_task
from tests.data.test_movielens import write_grouplens


def test_the_user_item_task_passes() -> None:
    check_task(UserItemTask)


class RankedStepsTask(UserItemTask):
    """Takes one more step on each later rank: DDP would hang at the first extra one."""

    def batches(self, data_dir, info, config, rank, world_size, device, loss):
        found = super().batches(data_dir, info, config, rank, world_size, device, loss)
        found.steps += rank
        return found


class DetachedTask(UserItemTask):
    def batch_loss(self, model, mapper, sampler, loss, batch, generator):
        out = super().batch_loss(model, mapper, sampler, loss, batch, generator)
        return LossOutput(out.loss.detach(), out.parts)


class CountingTask(UserItemTask):
    """Carries a count of batches into the loss and never starts it afresh."""

    def __init__(self) -> None:
        self.calls = 0

    def batch_loss(self, model, mapper, sampler, loss, batch, generator):
        self.calls += 1
        out = super().batch_loss(model, mapper, sampler, loss, batch, generator)
        return LossOutput(out.loss * (1 + 0.1 * self.calls), out.parts)


class EveryRankScoresAll(Evaluation):
    """Each rank scores every validation user: the sums over ranks count them twice."""

    def __init__(self, inner: Evaluation) -> None:
        self.inner = inner

    def validate(self, mapper, retriever, rank, world_size, device):
        return self.inner.validate(mapper, retriever, 0, 1, device)

    def test(self, mapper, retriever, rank, world_size, device):
        return self.inner.test(mapper, retriever, rank, world_size, device)


class EveryRankScoresAllTask(UserItemTask):
    def evaluation(self, data_dir, info, config):
        return EveryRankScoresAll(super().evaluation(data_dir, info, config))


class OtherUsersInfoTask(UserItemTask):
    """Gives each worker the training items of another worker's users: the users a rank
    scores are then scored without the items they have seen."""

    def worker_info(self, data_dir, rank, world_size):
        return super().worker_info(data_dir, (rank + 1) % world_size, world_size)


class ForgetfulOutputsTask(UserItemTask):
    outputs = (*UserItemTask.outputs, "extra.npy")


@pytest.mark.parametrize(("cls", "rule"), [
    (RankedStepsTask, "same number of steps on every rank"),
    (DetachedTask, "must keep the gradient"),
    (CountingTask, "must start afresh in every epoch's first batch"),
    (EveryRankScoresAllTask, "each rank must score its own share"),
    (OtherUsersInfoTask, "whose data the rank's worker_info holds"),
    (ForgetfulOutputsTask, "missing extra.npy"),
], ids=["ranked-steps", "detached", "carried-state", "every-rank-all", "other-users-info",
        "outputs"])
def test_check_task_catches(cls: type, rule: str) -> None:
    with pytest.raises(ConformanceError) as caught:
        check_task(cls)
    assert rule in str(caught.value) and cls.__name__ in str(caught.value)


def _csv(tmp_path: Path) -> dict:
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"user_id": np.repeat(np.arange(20), 8),
                         "item_id": rng.integers(0, 30, 160), "timestamp": np.arange(160)})
    rows.to_csv(tmp_path / "rows.csv", index=False)
    rows.to_parquet(tmp_path / "rows.parquet", index=False)
    return {"timestamp_col": "timestamp"}


@pytest.mark.parametrize("name", ["synthetic", "csv", "parquet", "citeulike", "movielens-100k"])
def test_the_built_in_datasets_pass(name: str, tmp_path: Path) -> None:
    if name == "synthetic":
        check_dataset(SyntheticDataset, num_users=50, num_items=40, interactions_per_user=8,
                      seed=1)
    elif name in ("csv", "parquet"):
        cls = CsvDataset if name == "csv" else ParquetDataset
        check_dataset(cls, path=str(tmp_path / f"rows.{name}"), **_csv(tmp_path))
    elif name == "citeulike":
        users = tmp_path / "users.dat"
        users.write_text("".join(f"6 {' '.join(str((u + j) % 9) for j in range(6))}\n"
                                 for u in range(12)))
        (tmp_path / "tags.dat").write_text("".join(f"1 {i % 3}\n" for i in range(9)))
        check_dataset(CiteULike, path=str(users), item_tags=str(tmp_path / "tags.dat"))
    else:
        folder = write_grouplens(tmp_path / "ml-100k", genre_file=True)
        check_dataset(MovieLens100K, path=str(folder))


class UnseededDataset(Dataset):
    def load(self) -> RawData:
        rng = np.random.default_rng()  # a new draw on every load
        return RawData(pd.DataFrame({"user": np.repeat(np.arange(20), 5),
                                     "item": rng.integers(0, 50, 100)}), name="unseeded")


class ItemIdDataset(Dataset):
    def load(self) -> RawData:
        return RawData(pd.DataFrame({"user": [1, 2], "item_id": [3, 4]}), name="item-id")


class MissingIdsDataset(Dataset):
    def load(self) -> RawData:
        return RawData(pd.DataFrame({"user": [1, None, 2], "item": [3, 4, 5]}), name="gaps")


class TextTimesDataset(Dataset):
    def load(self) -> RawData:
        return RawData(pd.DataFrame({"user": [1, 2], "item": [3, 4],
                                     "timestamp": ["monday", "tuesday"]}), name="text-times")


class PositionalFeaturesDataset(Dataset):
    """Item features by row position, while the interactions name items by text ids."""

    def load(self) -> RawData:
        inter = pd.DataFrame({"user": ["a", "b", "c"], "item": ["x", "y", "z"]})
        return RawData(inter, item_features=pd.DataFrame({"size": [1.0, 2.0, 3.0]}),
                       name="positional")


class BadPathArgsDataset(SyntheticDataset):
    path_args = ("file",)


@pytest.mark.parametrize(("cls", "rule"), [
    (UnseededDataset, "a second load must return the same data"),
    (ItemIdDataset, "need user and item columns"),
    (MissingIdsDataset, "every interaction needs a user id"),
    (TextTimesDataset, "timestamp must be numeric"),
    (PositionalFeaturesDataset, "item_features must be indexed by the ids"),
    (BadPathArgsDataset, "path_args names ['file']"),
], ids=["unseeded", "item-id", "missing-ids", "text-times", "positional", "path-args"])
def test_check_dataset_catches(cls: type, rule: str) -> None:
    with pytest.raises(ConformanceError) as caught:
        check_dataset(cls)
    assert rule in str(caught.value) and cls.__name__ in str(caught.value)
