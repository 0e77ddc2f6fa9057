"""One build of an approximate index for all workers: rank 0 builds it, the others load it.

Every worker evaluates its own slice of users through the same index. An exact index costs
no more to build than to copy, so each rank builds its own; an approximate one (an HNSW
graph, IVF's k-means) can take minutes at a million items, and workers sharing a node's cores
would build it side by side. So rank 0 builds it, writes it with the retriever's ``save``
into a scratch directory, and broadcasts the files (``torch.distributed``, the trainer's
process group and its timeout); the other ranks write them into their own scratch directory
and ``load`` them over the same item vectors. A retriever without ``save`` (the base class's)
is built on every rank.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch.distributed as dist

from raytrec.ranks import distributed
from raytrec.retrievers import Retriever
from raytrec.scratch import temp_prefix


def shareable(retriever: Retriever) -> bool:
    """Whether ``retriever`` is worth building once and sending: approximate and saveable."""
    return not retriever.exact and type(retriever).save is not Retriever.save


def build_index(retriever: Retriever, items: np.ndarray, distance: str) -> None:
    """Build ``retriever`` over ``items`` on every rank: by rank 0 alone and broadcast when
    it is :func:`shareable` and there are 2+ workers; ``retriever.stats.build_seconds`` is
    then the build (rank 0) or the wait, copy and load (the others)."""
    if not (distributed() and shareable(retriever)):
        retriever.build(items, distance)
        return
    start = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix=temp_prefix("index")))
    try:
        box: list[Any] = [None]
        if dist.get_rank() == 0:
            retriever.build(items, distance)
            saved = retriever.save(scratch)
            box[0] = (saved, {p.name: p.read_bytes() for p in scratch.iterdir() if p.is_file()})
        dist.broadcast_object_list(box, src=0)
        if dist.get_rank() != 0:
            saved, files = box[0]
            for name, blob in files.items():
                (scratch / name).write_bytes(blob)
            retriever.load(scratch, saved, items, distance)
            retriever.stats.build_seconds = time.perf_counter() - start
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
