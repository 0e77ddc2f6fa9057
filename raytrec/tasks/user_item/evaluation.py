"""The user-item task's scoring: held-out items of each user retrieved among the catalogue.

Validation ranks at most ``eval.max_users`` users (drawn once by ``train.seed``), among the
items training knows when items are held out (``split.cold_items``). Test ranks every test
user (at most ``eval.test_max_users``), split into cold and warm users when some have no
training row, plus the cold-item groups of ``raytrec.tasks.user_item.cold_items``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from raytrec.config.run_config import RunConfig
from raytrec.data.base import DataInfo
from raytrec.data.store import answered_users
from raytrec.evaluation import MetricSums
from raytrec.evaluation.data import EvalData
from raytrec.evaluation.distributed import cold_and_warm, evaluate_split
from raytrec.evaluation.users import sample_users
from raytrec.mappers import Mapper
from raytrec.retrievers import Retriever
from raytrec.tasks.base import Evaluation
from raytrec.tasks.user_item.cold_items import cold_item_metrics, known_items


class UserItemEvaluation(Evaluation):
    def __init__(self, data_dir: Path, info: DataInfo, config: RunConfig) -> None:
        self.data_dir, self.info, self.config = str(data_dir), info, config
        self.known = known_items(config, info)
        # A worker reads the answers of the users it scores (``info.part``: its own).
        valid = EvalData.load(self.data_dir, "valid", info.num_users, info.positives,
                              *info.part)
        self.valid = valid if self.known is None else valid.among(self.known)
        # Drawn from every user's answers, the same on every rank.
        answered = answered_users(self.data_dir, "valid", info.num_users, self.known)
        self.valid_users = sample_users(answered, config.eval.max_users, config.train.seed)

    def validate(self, mapper: Mapper, retriever: Retriever, rank: int, world_size: int,
                 device: torch.device) -> dict[str, float]:
        return evaluate_split(mapper, retriever, self.valid, self.config.eval, rank,
                              world_size, device, self.valid_users, items=self.known)

    def test(self, mapper: Mapper, retriever: Retriever, rank: int, world_size: int,
             device: torch.device) -> dict[str, dict[str, float]]:
        info, eval_cfg = self.info, self.config.eval
        test = EvalData.load(self.data_dir, "test", info.num_users, info.positives, *info.part)
        groups = {}
        every = sample_users(answered_users(self.data_dir, "test", info.num_users),
                             eval_cfg.test_max_users, self.config.train.seed)
        split_users = cold_and_warm(test, info.training_rows(), every)
        for i, (name, users) in enumerate(split_users.items()):
            groups[f"test_{name}"] = evaluate_split(mapper, retriever, test, eval_cfg, rank,
                                                    world_size, device, users, build=i == 0)
        if groups:  # cold and warm users partition the test users: combine, not re-score
            found = (MetricSums.from_means(groups["test_cold"])
                     .add(MetricSums.from_means(groups["test_warm"])).means())
        else:
            found = evaluate_split(mapper, retriever, test, eval_cfg, rank, world_size, device,
                                   every)
        if self.known is not None:
            groups.update(cold_item_metrics(mapper, retriever, test, info, self.config, rank,
                                            world_size, device))
        return {"test": found, **groups}

