"""Test metrics of the items no training row names (``split.cold_items``), apart from the rest.

Three groups, each over the test users that have answers in it:

- ``test_cold_items``: the answers among cold items, ranked over the whole catalogue (what a
  user would be shown);
- ``test_cold_items_among_cold``: the same answers ranked among the cold items alone, which
  measures how well features place new items whatever the warm items do;
- ``test_warm_items``: the other answers ranked among the warm items alone, to compare with a
  run without the hold-out (how the cold items crowd the warm ones shows in ``test``).

The two "among" groups search an exact index over their own items' vectors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from raytrec.data.base import DataInfo
from raytrec.data.store import UserItems
from raytrec.evaluation import evaluate
from raytrec.evaluation.data import EvalData
from raytrec.mappers import Mapper
from raytrec.retrievers import Retriever
from raytrec.retrievers.faiss_flat import FaissFlatRetriever
from raytrec.train.validation import all_reduce_sums, evaluate_split


def restrict(data: UserItems, keep: np.ndarray) -> UserItems:
    """``data`` with only the items where ``keep`` (``(num_items,)`` bool) is true."""
    users = np.repeat(np.arange(len(data.indptr) - 1), data.counts())
    kept = keep[data.indices]
    return UserItems.from_pairs(users[kept], data.indices[kept], len(data.indptr) - 1)


@torch.no_grad()
def cold_item_metrics(mapper: Mapper, retriever: Retriever, test: EvalData, info: DataInfo,
                      eval_cfg: dict[str, Any], rank: int, world_size: int,
                      device: torch.device) -> dict[str, dict[str, float]]:
    """The three groups' metrics; ``retriever`` already indexes the model's item vectors."""
    cold = np.asarray(info.item_counts) == 0
    answers = restrict(test.relevant, cold)
    if not len(answers.indices):
        return {}
    whole = evaluate_split(mapper, retriever, EvalData(answers, test.exclude), eval_cfg, rank,
                           world_size, device, build=False)
    mapper.eval()
    vectors = mapper.all_items().detach().float().cpu().numpy()
    found = {"test_cold_items": whole}
    for name, items in (("test_cold_items_among_cold", cold), ("test_warm_items", ~cold)):
        found[name] = _among(mapper, vectors, items, restrict(test.relevant, items),
                             restrict(test.exclude, items), eval_cfg, rank, world_size, device)
    mapper.train()
    return found


def _among(mapper: Mapper, vectors: np.ndarray, items: np.ndarray, relevant: UserItems,
           exclude: UserItems, eval_cfg: dict[str, Any], rank: int, world_size: int,
           device: torch.device) -> dict[str, float]:
    """Metrics of ``relevant`` ranked among ``items`` (a ``(num_items,)`` mask) only."""
    ids = np.flatnonzero(items)
    position = np.cumsum(items) - 1  # an item's row in the index of ``items``
    index = FaissFlatRetriever()
    index.build(np.ascontiguousarray(vectors[ids]), mapper.distance)
    users = relevant.users()[rank::world_size]

    def queries(batch: np.ndarray) -> np.ndarray:
        return mapper.queries(torch.from_numpy(batch).to(device)).detach().float().cpu().numpy()

    sums = evaluate(queries, index, users, UserItems(relevant.indptr, position[relevant.indices]),
                    UserItems(exclude.indptr, position[exclude.indices]),
                    [k for k in eval_cfg["ks"] if k <= len(ids)] or [len(ids)],
                    eval_cfg["chunk_size"])
    return all_reduce_sums(sums, device).means()
