"""``python index_worker.py RANK WORLD PORT RETRIEVER OUT``, run by ``gloo.run_ranks``: builds
RETRIEVER over fixed clustered item vectors through ``build_index``, counting the builds of
this rank, searches fixed queries and writes the counts and the top ids to ``OUT`` (holding
``{rank}``) as JSON."""

from __future__ import annotations

import json
import sys

import numpy as np
import torch
from gloo import join, leave  # beside this script

from raytrec.evaluation.shared_index import build_index
from raytrec.plugins import get_registry

OPTIONS = {"faiss-hnsw": {"m": 8, "ef_search": 16}, "faiss-ivf": {"nlist": 32, "nprobe": 2},
           "faiss-flat": {}}


def main(rank: int, world: int, port: int, name: str, out: str) -> None:
    torch.set_num_threads(1)
    join(rank, world, port)
    retriever = get_registry().create("retriever", name, threads=1, **OPTIONS[name])
    builds = []
    original = type(retriever)._build

    def counted(self, items: np.ndarray) -> None:
        builds.append(len(items))
        original(self, items)

    type(retriever)._build = counted  # type: ignore[method-assign]
    rng = np.random.default_rng(0)  # the same on every rank
    centres = rng.normal(size=(20, 16))
    items = (centres[rng.integers(0, 20, 2000)] + 0.3 * rng.normal(size=(2000, 16)))
    queries = rng.normal(size=(40, 16)).astype(np.float32)
    build_index(retriever, items.astype(np.float32), "dot")
    _, ids = retriever.search(queries, 10)
    with open(out.format(rank=rank), "w") as fh:
        json.dump({"builds": builds, "ids": ids.tolist(),
                   "build_seconds": retriever.stats.build_seconds}, fh)
    leave(world)


if __name__ == "__main__":
    r, w, p, *rest = sys.argv[1:]
    main(int(r), int(w), int(p), *rest)
