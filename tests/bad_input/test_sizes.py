"""Sizes larger than the data are bounded by the data: no hang, no allocation of their size."""

from __future__ import annotations

from pathlib import Path

import torch

from raytrec.tasks.user_item.batches import ShardBatches
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


def test_synthetic_data_larger_than_memory_is_a_config_error(tmp_path: Path, capsys) -> None:
    """Before: numpy's MemoryError ("Unable to allocate 7.28 TiB") as a traceback."""
    from tests.bad_input.conftest import refused

    for key in ("num_users", "num_items"):
        cfg = write_config(tmp_path / "c.yaml", data={key: 10**12})
        err = refused(capsys, tmp_path, cfg)
        assert f"data.{key}: makes about" in err and "free; lower data." in err


def test_faiss_sizes_past_what_faiss_takes_name_their_key(tmp_path: Path, capsys) -> None:
    """Before: "'faiss-hnsw' failed on a tiny batch before training: OverflowError: in method
    'SearchParametersHNSW_efSearch_set'" and the like, naming no key."""
    from tests.bad_input.conftest import refused

    for name, key in (("faiss-hnsw", "ef_search"), ("faiss-hnsw", "ef_construction"),
                      ("faiss-lsh", "nbits"), ("faiss-lsh", "rerank"),
                      ("faiss-ivf", "rerank")):
        cfg = write_config(tmp_path / "c.yaml", retriever={"name": name, key: 10**12})
        err = refused(capsys, tmp_path, cfg)
        assert f"retriever.{key}: must be from 1 to 2,147,483,647 (FAISS takes a C int), got " \
               "1000000000000" in err, err
    # One FAISS takes, but whose projections alone would fill the memory.
    cfg = write_config(tmp_path / "c.yaml", retriever={"name": "faiss-lsh", "nbits": 2 * 10**9})
    err = refused(capsys, tmp_path, cfg)
    assert "retriever.nbits: nbits=2000000000 needs about" in err and "use nbits <= " in err


def test_shared_extra_negatives_past_any_batch_are_refused(tmp_path: Path, capsys) -> None:
    """Before: "'mixed' failed on a tiny batch before training: RuntimeError: ... you tried to
    allocate 8000000000000 bytes"; 10^8 passed that check and ran out of memory later."""
    from tests.bad_input.conftest import refused

    for n in (10**8, 10**12):
        cfg = write_config(tmp_path / "c.yaml", sampler={"name": "mixed", "num_negatives": n},
                           loss={"name": "infonce"})
        err = refused(capsys, tmp_path, cfg)
        assert f"sampler.num_negatives: num_negatives={n} shared extras" in err, err
    cfg = write_config(tmp_path / "c.yaml", sampler={"name": "mixed", "num_negatives": 2048},
                       loss={"name": "infonce"}, train={"epochs": 1})
    assert run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")[0] == 0
