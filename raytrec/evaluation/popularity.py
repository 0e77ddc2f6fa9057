"""The popularity baseline: every user gets the most-interacted items they have not seen."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from raytrec.data.store import answered_users, parts_of, read_info
from raytrec.evaluation.data import EvalData
from raytrec.evaluation.evaluate import MetricSums, evaluate
from raytrec.evaluation.users import sample_users
from raytrec.retrievers.faiss_flat import FaissFlatRetriever


def popularity_metrics(data_dir: Path, split: str, ks: list[int], chunk_size: int = 2048,
                       users: np.ndarray | None = None, max_users: int | None = None,
                       seed: int = 0) -> dict[str, float]:
    """Metrics of ``users`` (default: every user of ``split``, or a sample of ``max_users``
    of them drawn by ``seed``, as the model's are). The data are read in parts of users
    (``store.parts_of``), each part's seen items only while it is scored."""
    info = read_info(data_dir)
    # Score = training count; the index id breaks ties so the ranking is deterministic.
    score = info.item_counts.astype(np.float64) - np.arange(info.num_items) * 1e-9
    retriever = FaissFlatRetriever()
    retriever.build(score[:, None].astype(np.float32), "dot")
    if users is None:
        users = sample_users(answered_users(data_dir, split, info.num_users), max_users, seed)
    # A chunk is never larger than the users scored, whatever eval.chunk_size says.
    chunk_size = max(1, min(chunk_size, len(users)))
    ones = np.ones((chunk_size, 1), dtype=np.float32)
    parts = parts_of(info.num_train)
    total = MetricSums()
    for part in range(parts):
        data = EvalData.load(str(data_dir), split, info.num_users, part=part, parts=parts)
        total = total.add(evaluate(lambda batch: ones[: len(batch)], retriever,
                                   users[users % parts == part], data.relevant, data.exclude,
                                   ks, chunk_size))
    return total.means()
