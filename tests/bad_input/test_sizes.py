"""Sizes larger than the data are bounded by the data: no hang, no allocation of their size."""

from __future__ import annotations

from pathlib import Path

import torch

from raytrec.tasks.pair_batches import ShardBatches
from tests.bad_input.conftest import run_cli
from tests.conftest import write_config


def test_a_batch_larger_than_the_data_is_the_whole_data() -> None:
    """Before: ``train.batch_size: 1000000000000`` built a permutation of 10^12 rows and
    hung."""
    users, items = torch.arange(10), torch.arange(10)
    batches = ShardBatches(users, items, 10, 10**12, 1)
    [batch] = list(batches.epoch(torch.Generator().manual_seed(0)))
    assert sorted(batch.users.tolist()) == list(range(10))
    halves = ShardBatches(users[:5], items[:5], 10, 10**12, 2)
    assert len(list(halves.epoch(torch.Generator().manual_seed(0)))) == 1


def test_huge_batch_and_evaluation_chunk_train(tmp_path: Path, capsys) -> None:
    """Before: a MemoryError traceback (eval.chunk_size sized the popularity queries)."""
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1, "batch_size": 10**12},
                       eval={"chunk_size": 10**12})
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 0, err
    assert (tmp_path / "run" / "metrics.json").is_file()
