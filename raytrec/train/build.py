"""Build a run's components from its resolved config, on whichever process runs the loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from raytrec.data.base import DataInfo
from raytrec.losses import Loss
from raytrec.mappers import Mapper
from raytrec.plugins import get_registry
from raytrec.retrievers import Retriever
from raytrec.samplers import Sampler
from raytrec.tasks import Task


@dataclass
class Parts:
    mapper: Mapper
    sampler: Sampler
    loss: Loss


def _kwargs(section: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in section.items() if k != "name"}


def build_parts(config: dict[str, Any], info: DataInfo) -> Parts:
    registry = get_registry()
    mapper = registry.create("mapper", config["mapper"]["name"], **_kwargs(config["mapper"]))
    sampler = registry.create("sampler", config["sampler"]["name"], **_kwargs(config["sampler"]))
    loss = registry.create("loss", config["loss"]["name"], **_kwargs(config["loss"]))
    mapper.setup(info)
    sampler.setup(info)
    loss.setup(info)
    return Parts(mapper, sampler, loss)


def build_task(config: dict[str, Any]) -> Task:
    section = config["task"]
    return get_registry().create("task", section["name"], **_kwargs(section))


def build_retriever(config: dict[str, Any]) -> Retriever:
    section = config["retriever"]
    return get_registry().create("retriever", section["name"], **_kwargs(section))
