"""The embedding files a run writes, computed and written a chunk of rows at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from raytrec.mappers.embedding import EmbeddingMapper
from raytrec.tasks import outputs
from raytrec.testing.common import tiny_info


def test_chunks_write_every_row_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outputs, "CHUNK", 7)  # rows that do not divide into chunks
    torch.manual_seed(0)
    mapper = EmbeddingMapper(dim=4)
    mapper.setup(tiny_info(num_users=12, num_items=30))
    for kind, n in (("user", 12), ("item", 30)):
        pq.write_table(pa.table({"index": np.arange(n), "id": [f"{kind}{i}" for i in range(n)]}),
                       tmp_path / f"{kind}s.parquet")
    outputs.write_embeddings(tmp_path, tmp_path, mapper, torch.device("cpu"))
    with torch.no_grad():
        want = {"user": mapper.queries(torch.arange(12)), "item": mapper.all_items()}
    for kind, vectors in want.items():
        table = pq.read_table(tmp_path / outputs.EMBEDDING_FILES[kind])
        assert table.column("id").to_pylist() == [f"{kind}{i}" for i in range(len(vectors))]
        got = np.stack(table.column("embedding").to_numpy(zero_copy_only=False))
        np.testing.assert_array_equal(got, vectors.detach().numpy())
