"""One real 2-worker Ray Train (DDP) run: every evaluation user counted exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raytrec.data.store import read_info, read_user_items
from raytrec.run.job import create_job
from raytrec.run.launch import run_job
from tests.conftest import write_config


@pytest.mark.ray
def test_two_workers_train_and_evaluate_every_user_once(tmp_path: Path, ray_cluster) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 2},
                       scaling={"num_workers": 2, "cpus_per_worker": 0.5})
    job = create_job(cfg, [], tmp_path / "run", overwrite=False)
    summary = run_job(job)
    info = read_info(job.data_dir)
    valid_users = len(read_user_items(job.data_dir, "valid", info.num_users).users())
    test_users = len(read_user_items(job.data_dir, "test", info.num_users).users())
    progress = [json.loads(x) for x in (job.run_dir / "progress.jsonl").read_text().splitlines()]
    epochs = [row for row in progress if not row.get("finished")]
    assert [row["epoch"] for row in epochs] == [1, 2]
    assert all(row["valid/users"] == valid_users for row in epochs)
    # Every worker's peak memory, in MiB: a torch process holds more than 50.
    assert all(len(row["peak_rss_mb_by_rank"]) == 2 and min(row["peak_rss_mb_by_rank"]) > 50
               for row in epochs)
    assert summary["test"]["users"] == test_users
    assert summary["test"]["recall@20"] > 0
    assert (job.run_dir / "item_embeddings.parquet").is_file()
