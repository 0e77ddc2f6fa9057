"""An approximate index is built once, by rank 0, and loaded by the other workers (real gloo
process groups, no Ray); an exact one is built by every rank."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.train.gloo import run_ranks

WORKER = Path(__file__).with_name("index_worker.py")


def _run(name: str, world: int, out: Path) -> list[dict]:
    path = out / f"{name}-{world}-{{rank}}.json"
    run_ranks(WORKER, world, [name, str(path)])
    return [json.loads(Path(str(path).format(rank=rank)).read_text()) for rank in range(world)]


@pytest.mark.parametrize("name", ["faiss-hnsw", "faiss-ivf"])
def test_rank_zero_builds_an_approximate_index_and_the_others_load_it(name: str,
                                                                       tmp_path: Path) -> None:
    (alone,) = _run(name, 1, tmp_path)
    first, second = _run(name, 2, tmp_path)
    assert first["builds"] == [2000] and second["builds"] == [], "built on rank 0 only"
    assert second["ids"] == first["ids"] == alone["ids"], "every rank searches the same index"
    assert second["build_seconds"] > 0


def test_an_exact_index_is_built_by_every_rank(tmp_path: Path) -> None:
    first, second = _run("faiss-flat", 2, tmp_path)
    assert first["builds"] == second["builds"] == [2000]
    assert first["ids"] == second["ids"]
