"""What a worker reads of the prepared data: the training rows and pairs of its own users
(``u % world == rank``) and every user's row count, never the others' pairs; the driver's
checks and baselines read in parts of users once the data holds more than ``PART_PAIRS``
training pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from raytrec.config.sections import SplitConfig
from raytrec.data import store
from raytrec.data.base import RawData
from raytrec.data.prepare import prepare
from raytrec.data.store import read_train_rows
from raytrec.plugins import get_registry
from raytrec.run import job
from raytrec.run.job import check_against_data, create_job
from tests.conftest import write_config


def _prepared(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(60), 8)
    frame = pd.DataFrame({"user": users, "item": rng.integers(0, 90, len(users)),
                          "rating": rng.integers(1, 6, len(users)).astype(float)})
    prepare(RawData(frame, name="t"), SplitConfig(seed=0), tmp_path / "d")
    return tmp_path / "d"


def _items(info, user: int) -> list[int]:
    start, end = info.positives.indptr[user], info.positives.indptr[user + 1]
    return info.positives.indices[start:end].tolist()


def test_each_worker_holds_the_pairs_of_its_own_users_and_every_users_count(
        tmp_path: Path) -> None:
    data = _prepared(tmp_path)
    task = get_registry().create("task", "user-item")
    whole = task.training_info(data)
    workers = [task.worker_info(data, rank, 3) for rank in range(3)]
    for rank, info in enumerate(workers):
        mine = info.positives.users()
        assert len(mine) and (mine % 3 == rank).all()
        assert all(_items(info, u) == _items(whole, u) for u in mine)
        assert (info.training_rows() == whole.positives.counts()).all()
        users, items, ratings = read_train_rows(data, rank, 3, ratings=True)
        assert (users % 3 == rank).all() and ratings is not None and len(ratings) == len(users)
        assert sorted(zip(users.tolist(), items.tolist(), strict=True)) == \
            sorted((u, i) for u in mine for i in _items(whole, u))
    assert sum(len(info.positives.indices) for info in workers) == len(whole.positives.indices)


def test_the_drivers_checks_read_a_bounded_part_of_the_pairs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = create_job(write_config(tmp_path / "c.yaml"), [], tmp_path / "run", overwrite=False)
    task = get_registry().build("task", run.config.task)
    pairs = task.training_info(run.data_dir).num_train
    monkeypatch.setattr(store, "PART_PAIRS", pairs // 4)
    read = job._checking_info(task, run.data_dir)
    assert read.part == (0, 5)
    assert (read.positives.users() % 5 == 0).all()
    assert len(read.positives.indices) < 0.3 * pairs
    check_against_data(run.config, run.data_dir, "c.yaml")  # the checks pass on the part



def test_workers_scoring_their_own_users_add_up_to_one_scoring_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from raytrec.evaluation import MetricSums
    from raytrec.evaluation.popularity import popularity_metrics

    cfg = write_config(tmp_path / "c.yaml", split={"cold_items": 0.1},
                       eval={"ks": [10, 20], "metric": "recall@20", "max_users": 150})
    run = create_job(cfg, [], tmp_path / "run", overwrite=False)
    registry = get_registry()
    task = registry.build("task", run.config.task)

    def scored(rank: int, world: int) -> dict[str, dict[str, float]]:
        torch.manual_seed(0)
        info = task.worker_info(run.data_dir, rank, world)
        mapper = registry.build("mapper", run.config.spec("mapper"))
        mapper.setup(info)
        evaluation = task.evaluation(run.data_dir, info, run.config)
        found = {"valid": evaluation.validate(mapper, registry.build(
            "retriever", run.config.retriever), rank, world, torch.device("cpu"))}
        return found | evaluation.test(mapper, registry.build("retriever", run.config.retriever),
                                       rank, world, torch.device("cpu"))

    whole = scored(0, 1)
    parts = [scored(rank, 3) for rank in range(3)]
    assert {"valid", "test", "test_cold_items", "test_warm_items"} <= whole.keys()
    for group, expected in whole.items():
        sums = MetricSums()
        for part in parts:
            sums = sums.add(MetricSums.from_means(part[group]))
        assert sums.means() == pytest.approx(expected), group
    alone = popularity_metrics(run.data_dir, "test", [10, 20], max_users=100, seed=3)
    monkeypatch.setattr(store, "PART_PAIRS", task.training_info(run.data_dir).num_train // 3)
    assert popularity_metrics(run.data_dir, "test", [10, 20], max_users=100,
                              seed=3) == pytest.approx(alone)
