"""Embedding tables a task writes beside the model (``Task.write_outputs``): one row per
user or item, its index, its original id and its vector; what ``raytrec export`` and
``raytrec recommend`` serve from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from raytrec.mappers import Mapper

EMBEDDING_FILES = {"user": "user_embeddings.parquet", "item": "item_embeddings.parquet"}


def embedding_table(ids_file: Path, vectors: np.ndarray) -> pa.Table:
    ids = pq.read_table(ids_file)
    flat = pa.array(vectors.astype(np.float32).reshape(-1))
    column = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
    return pa.table({"index": ids["index"], "id": ids["id"], "embedding": column})


@torch.no_grad()
def write_embeddings(out_dir: Path, data_dir: Path, mapper: Mapper,
                     device: torch.device) -> None:
    mapper.eval()
    users = torch.arange(mapper.num_users, device=device)
    user_vecs = torch.cat([mapper.queries(users[s:s + 65536])
                           for s in range(0, len(users), 65536)])
    item_vecs = mapper.all_items()
    for kind, vecs in (("user", user_vecs), ("item", item_vecs)):
        table = embedding_table(Path(data_dir) / f"{kind}s.parquet", vecs.float().cpu().numpy())
        pq.write_table(table, out_dir / EMBEDDING_FILES[kind])

