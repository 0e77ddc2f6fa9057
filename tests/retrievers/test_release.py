"""``Retriever.release``: the built index goes, the options stay, and a new build serves."""

from __future__ import annotations

import numpy as np
import pytest

from raytrec.plugins import get_registry


@pytest.mark.parametrize("spec", [
    {"name": "torch-exact", "chunk": 7}, {"name": "faiss-flat"},
    {"name": "faiss-ivf", "nlist": 4, "nprobe": 4}, {"name": "faiss-hnsw", "m": 8},
    {"name": "faiss-lsh", "nbits": 64},
], ids=lambda spec: spec["name"])
def test_a_released_index_keeps_its_options_and_builds_again(spec: dict) -> None:
    rng = np.random.default_rng(0)
    items = rng.normal(size=(300, 8)).astype(np.float32)
    queries = rng.normal(size=(5, 8)).astype(np.float32)
    name, kwargs = spec["name"], {k: v for k, v in spec.items() if k != "name"}
    retriever = get_registry().create("retriever", name, **kwargs)
    options = dict(vars(retriever))
    retriever.build(items, "dot")
    found = retriever.search(queries, 10)
    stats = retriever.stats
    retriever.release()
    left = {k: v for k, v in vars(retriever).items() if k != "_options"}
    assert left == {**options, "stats": stats}  # no index, no vectors: the options
    assert not any(isinstance(v, np.ndarray) for v in vars(retriever).values())
    retriever.build(items, "dot")
    for got, want in zip(retriever.search(queries, 10), found, strict=True):
        np.testing.assert_array_equal(got, want)
