"""One real 2-worker Ray Train (DDP) run: every evaluation user counted exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch

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


@pytest.mark.ray
def test_sharded_tables_on_ray_train_workers(tmp_path: Path, ray_cluster, capsys) -> None:
    """Two Ray Train workers, each holding half of every ID table: every worker's rows land
    in each epoch's checkpoint (Ray merges them), the finished run holds the whole model and
    its outputs, and it resumes on one worker."""
    from raytrec.run.launch import checkpoint_dirs
    from raytrec.train.checkpoint import newest_readable
    from tests.bad_input.conftest import run_cli

    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 2, "sharding": "rows"},
                       scaling={"num_workers": 2, "cpus_per_worker": 0.5})
    job = create_job(cfg, [], tmp_path / "run", overwrite=False)
    summary = run_job(job)
    info = read_info(job.data_dir)
    epochs = [d for d in checkpoint_dirs(job.run_dir)
              if (d / "shard-00001-of-00002.pt").is_file()]
    # Ray keeps the newest checkpoints: the last epoch's and the final one.
    assert epochs and all((d / "shard-00000-of-00002.pt").is_file() for d in epochs)
    state = newest_readable(epochs)  # whole tables, from both workers' rows
    assert state is not None
    assert state["model"]["item_emb"].shape == (info.num_items, 16)
    assert state["model"]["user_emb"].shape == (info.num_users, 16)
    model = torch.load(job.run_dir / "model.pt", weights_only=False)["model"]
    assert model["item_emb"].shape == (info.num_items, 16)
    assert len(pd.read_parquet(job.run_dir / "item_embeddings.parquet")) == info.num_items
    progress = [json.loads(x) for x in (job.run_dir / "progress.jsonl").read_text().splitlines()]
    whole = 4 * (info.num_items + info.num_users) * 16 * 2  # weights and Adagrad sums
    assert all(row["train/table_mb"] * 2**20 < 0.55 * whole for row in progress
               if not row.get("finished"))
    for command in (["evaluate", job.run_dir], ["export", job.run_dir, "--out", tmp_path / "e"]):
        code, _, err = run_cli(capsys, *command)
        assert code == 0, err  # the whole model, as any run's
    code, _, err = run_cli(capsys, "train", "--resume", job.run_dir, "--set",
                           "scaling.num_workers=1", "--set", "train.sharding=replicated")
    assert code == 0, err
    again = json.loads((job.run_dir / "metrics.json").read_text())
    assert again["test"] == pytest.approx(summary["test"])
