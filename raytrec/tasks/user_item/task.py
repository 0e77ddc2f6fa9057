"""The ``user-item`` task: (user, item) positives, user ids as queries, top-K retrieval."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from raytrec.config.run_config import RunConfig
from raytrec.config.sections import SplitConfig
from raytrec.data.base import DataInfo, Dataset, RawData
from raytrec.data.prepare import prepare
from raytrec.data.store import read_training_info
from raytrec.errors import Problem
from raytrec.losses import Loss, LossOutput
from raytrec.mappers import Mapper
from raytrec.samplers import Sampler
from raytrec.tasks.base import Baselines, Task
from raytrec.tasks.outputs import EMBEDDING_FILES, write_embeddings
from raytrec.tasks.user_item.baselines import user_item_baselines
from raytrec.tasks.user_item.batches import PairBatch, ShardBatches, shard_batches
from raytrec.tasks.user_item.evaluation import UserItemEvaluation
from raytrec.tasks.user_item.step import loss_of_batch


class UserItemTask(Task):
    """Implicit feedback as (user, item) pairs split per user (``split``); a user's query is
    ``Mapper.queries(user)``; each held-out item is an answer to retrieve among the whole
    catalogue, the user's earlier items excluded. Outputs: user and item embeddings."""

    mapper_base = Mapper
    servable = True
    outputs: ClassVar[tuple[str, ...]] = tuple(EMBEDDING_FILES.values())
    group_labels: ClassVar[dict[str, str]] = {
        "test_cold": "cold users", "test_warm": "warm users", "test_cold_items": "cold items",
        "test_cold_items_among_cold": "cold items among them", "test_warm_items": "warm items"}

    def prepare(self, raw: RawData, split: SplitConfig, out_dir: Path) -> None:
        prepare(raw, split, out_dir)

    def prepare_on_cluster(self, dataset: Dataset, split: SplitConfig, out_dir: Path) -> None:
        from raytrec.data.cluster.prepare import prepare_on_cluster

        prepare_on_cluster(dataset, split, out_dir)

    def training_info(self, data_dir: Path) -> DataInfo:
        return read_training_info(data_dir)

    def worker_info(self, data_dir: Path, rank: int, world_size: int) -> DataInfo:
        # A worker trains on its users' rows and scores its users: it holds their pairs only
        # (samplers exclude them, evaluation skips them).
        return read_training_info(data_dir, rank, world_size)

    def batches(self, data_dir: Path, info: DataInfo, config: RunConfig, rank: int,
                world_size: int, device: torch.device, loss: Loss) -> ShardBatches:
        return shard_batches(data_dir, rank, world_size, device, info.num_train,
                             config.train.batch_size, loss.uses_ratings)

    def batch_loss(self, model: nn.Module, mapper: Mapper, sampler: Sampler, loss: Loss,
                   batch: PairBatch, generator: torch.Generator) -> LossOutput:
        return loss_of_batch(model, mapper, sampler, loss, batch.users, batch.items,
                             generator, batch.ratings)

    def evaluation(self, data_dir: Path, info: DataInfo,
                   config: RunConfig) -> UserItemEvaluation:
        return UserItemEvaluation(data_dir, info, config)

    def write_outputs(self, directory: Path, data_dir: Path, mapper: Mapper,
                      device: torch.device) -> None:
        write_embeddings(directory, data_dir, mapper, device)

    def baselines(self, data_dir: Path, config: RunConfig, split: str,
                  quick: bool = False) -> Baselines:
        return user_item_baselines(data_dir, config.eval, split, quick, config.train.seed)

    def check(self, config: RunConfig, info: DataInfo,
              parts: dict[str, Any]) -> list[Problem]:
        from raytrec.tasks.user_item.check import retriever_problems, smoke_problems

        problems = retriever_problems(config, info.num_items, parts["mapper"].dim)
        return problems or smoke_problems(config, parts["sampler"], parts["loss"],
                                          parts["mapper"], info)
