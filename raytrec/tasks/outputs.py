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
    """The embedding table of ``vectors`` (one row per id of ``ids_file``, in order)."""
    ids = pq.read_table(ids_file)
    return pa.table({"index": ids["index"], "id": ids["id"], "embedding": _fixed_size(vectors)})


# Rows computed and written at a time: the whole table of a catalogue that only fits the
# cluster is never held as vectors beside the model that makes them.
CHUNK = 1 << 18


@torch.no_grad()
def write_embeddings(out_dir: Path, data_dir: Path, mapper: Mapper,
                     device: torch.device) -> None:
    """Every user's query vector and every item's vector (``EMBEDDING_FILES``), computed and
    written ``CHUNK`` rows at a time."""
    mapper.eval()
    for kind, vectors in (("user", mapper.queries), ("item", mapper.items)):
        ids = pq.read_table(Path(data_dir) / f"{kind}s.parquet", columns=["index", "id"])
        schema = ids.schema.append(pa.field("embedding", pa.list_(pa.float32(), mapper.dim)))
        with pq.ParquetWriter(out_dir / EMBEDDING_FILES[kind], schema) as writer:
            for start in range(0, len(ids), CHUNK):
                rows = torch.arange(start, min(start + CHUNK, len(ids)), device=device)
                found = vectors(rows).float().cpu().numpy()
                part = ids.slice(start, len(rows))
                writer.write_table(pa.table([part["index"], part["id"], _fixed_size(found)],
                                            schema=schema))


def _fixed_size(vectors: np.ndarray) -> pa.FixedSizeListArray:
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1))
    return pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
