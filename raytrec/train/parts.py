"""The three components one training step runs, built from a run's config and set up on its
data, on whichever process runs the loop."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from raytrec.config.run_config import RunConfig
from raytrec.data.base import DataInfo
from raytrec.losses import Loss
from raytrec.mappers import Mapper
from raytrec.plugins import get_registry
from raytrec.samplers import Sampler


@dataclass
class Parts:
    mapper: Mapper
    sampler: Sampler
    loss: Loss

    def to(self, device: torch.device) -> Parts:
        """All three placed on ``device``, once, where the loop places the model."""
        self.mapper, self.loss = self.mapper.to(device), self.loss.to(device)
        self.sampler.to(device)
        return self

    def shard(self, rank: int, world: int) -> Parts:
        """Keep only this worker's rows of every ID table of the mapper, read through the
        others' (after ``to``: each table is placed once). Those ``Mapper.new_id_table`` drew
        are this worker's rows already (``build_parts`` with ``rank``)."""
        self.mapper.shard_tables(self.mapper.id_tables, rank, world)
        return self


def build_parts(config: RunConfig, info: DataInfo, rank: int | None = None,
                world: int = 1) -> Parts:
    """The parts, set up on the data of ``info``; with ``rank`` of ``world``, the mapper
    draws only that worker's rows of its ID tables (to be sharded: ``Parts.shard``)."""
    registry = get_registry()
    parts = Parts(registry.build("mapper", config.mapper),
                  registry.build("sampler", config.sampler), registry.build("loss", config.loss))
    if rank is not None:
        parts.mapper.place(rank, world)
    parts.mapper.setup(info)
    parts.sampler.setup(info)
    parts.loss.setup(info)
    return parts
