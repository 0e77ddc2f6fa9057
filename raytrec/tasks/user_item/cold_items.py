"""Test metrics of the items no training row names (``split.cold_items``), apart from the rest.

Three groups, each over the test users that have answers in it:

- ``test_cold_items``: the answers among cold items, ranked over the whole catalogue (what a
  user would be shown);
- ``test_cold_items_among_cold``: the same answers ranked among the cold items alone, which
  measures how well features place new items whatever the warm items do;
- ``test_warm_items``: the other answers ranked among the warm items alone, as validation
  ranks them, to compare with a run without the hold-out (how the cold items crowd the warm
  ones shows in ``test``).

The two "among" groups go through an index of the configured kind over their items only.
"""

from __future__ import annotations

import numpy as np
import torch

from raytrec.config.run_config import RunConfig
from raytrec.data.base import DataInfo
from raytrec.evaluation.data import EvalData
from raytrec.evaluation.distributed import evaluate_split, on_any_rank
from raytrec.mappers import Mapper
from raytrec.plugins import get_registry
from raytrec.retrievers import Retriever


def known_items(config: RunConfig, info: DataInfo) -> np.ndarray | None:
    """With items held out (``split.cold_items``), the mask of the items training knows, which
    validation ranks among: it has no answers among the others, and their feature-served
    vectors would only crowd it. None without a hold-out."""
    if not config.split.cold_items:
        return None
    return np.asarray(info.item_counts) > 0


def cold_item_metrics(mapper: Mapper, retriever: Retriever, test: EvalData, info: DataInfo,
                      config: RunConfig, rank: int, world_size: int,
                      device: torch.device) -> dict[str, dict[str, float]]:
    """The three groups' metrics; ``retriever`` already indexes all the model's items."""
    cold = np.asarray(info.item_counts) == 0
    cold_answers = test.only(cold)
    # A rank holds its own users' answers: whether any user has a cold answer is every rank's.
    if not on_any_rank(bool(len(cold_answers.relevant.indices)), device):
        return {}
    eval_cfg = config.eval
    found = {"test_cold_items": evaluate_split(mapper, retriever, cold_answers, eval_cfg, rank,
                                               world_size, device, build=False)}
    for name, items in (("test_cold_items_among_cold", cold), ("test_warm_items", ~cold)):
        # Cut-offs beyond the group's size rank all of it: they say nothing more.
        ks = [k for k in eval_cfg.ks if k <= items.sum()] or [int(items.sum())]
        found[name] = evaluate_split(mapper, get_registry().build("retriever", config.retriever),
                                     test.among(items), eval_cfg, rank, world_size, device,
                                     items=items, ks=ks)
    return found
