"""Tasks: what a run trains on and how it is scored.

The training loop (``raytrec.train.loop``) owns what every task shares: building the
components, the optimiser and DistributedDataParallel, seeding, epochs, divergence checks,
early stopping, checkpoints and resuming. A task owns what differs between kinds of query:
the prepared data, its batches, the loss of one batch, validation and test scoring, the
outputs beside the model and the baselines shown next to it. ``user-item`` (user ids as
queries, top-K retrieval of held-out items) is raytrec's own; a plugin adds another, such as
sessions with next-item prediction, without touching the loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import torch
from torch import nn

from raytrec.config.run_config import RunConfig
from raytrec.config.sections import SplitConfig
from raytrec.data.base import DataInfo, Dataset, RawData
from raytrec.errors import DataError, Problem
from raytrec.losses import Loss, LossOutput
from raytrec.mappers import ItemModel, Mapper
from raytrec.retrievers import Retriever
from raytrec.samplers import Sampler


class Batches(Protocol):
    """One worker's training batches. ``steps`` must be the same on every worker (DDP steps
    together), so it follows the global data, not the shard; ``epoch`` yields ``steps``
    batches, each ``Sized``: its ``len`` is the positives it trains on (for throughput)."""

    steps: int

    def epoch(self, generator: torch.Generator) -> Iterator[Sized]: ...


@dataclass
class Baselines:
    """Baselines' metrics by name, in the order shown (the first is a search's yardstick),
    and one line each on how they were set up or why one was left out."""

    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Evaluation(ABC):
    """Scoring of one run's model, on the worker (each rank a share, sums combined over
    ranks) or in this process (``rank 0`` of ``world_size 1``)."""

    @abstractmethod
    def validate(self, mapper: ItemModel, retriever: Retriever, rank: int, world_size: int,
                 device: torch.device) -> dict[str, float]:
        """Metrics on the validation split (``eval.metric`` among them): what early stopping
        and a search rank by. Called every ``eval.every`` epochs: keep it cheap
        (``eval.max_users`` bounds it for the user-item task)."""

    @abstractmethod
    def test(self, mapper: ItemModel, retriever: Retriever, rank: int, world_size: int,
             device: torch.device) -> dict[str, dict[str, float]]:
        """Test metrics by group: ``"test"`` (every test query) first, then any groups of the
        task's own (``test_cold``...), each a metrics dict."""


class Task(ABC):
    """Base class of tasks.

    Writing a task (the rules for every component in ``raytrec.hookspecs`` apply: options in
    ``__init__``, checked there and nothing else):

    - ``mapper_base``: the class the run's mapper must subclass; config validation refuses
      another. ``Mapper`` (queries are user ids) unless the task makes queries otherwise.
    - ``prepare(raw, split, out_dir)`` (and, optionally, ``prepare_on_cluster`` for
      ``prepare.engine: ray``) writes the prepared data into ``out_dir`` (a fresh
      directory raytrec swaps into place only when the whole run directory is ready; it
      is fetched to every node of a cluster). ``split`` is the run's ``split`` section
      (``SplitConfig``). Its ``info.json`` holds ``num_users``, ``num_items`` and
      ``num_interactions`` (``{split: rows}``), and ``queries`` when the queries are not
      users: what ``raytrec train`` prints of the data.
    - ``config`` below is the run's whole validated config, a ``raytrec.config.RunConfig``:
      typed sections (``config.train.batch_size``, ``config.eval.ks``) and a
      ``ComponentSpec`` (name and arguments) per component.
      Bad data raises ``raytrec.errors.DataError`` naming the cause and the fix.
    - ``training_info(data_dir)`` reads back what the sampler, loss and mapper set themselves
      up from (``DataInfo``: ``num_items`` and ``item_counts`` at least).
    - ``worker_info(data_dir, rank, world_size)``: what worker ``rank`` sets itself up from
      (and the driver's checks, as one worker of many): ``training_info`` unless the task
      overrides it to read only the training pairs of its own queries.
    - ``batches(...)`` returns this worker's ``Batches``: worker ``rank`` of ``world_size``
      reads its own shard, the same number of steps on each.
    - ``batch_loss(model, mapper, sampler, loss, batch, generator)`` is the loss of one batch;
      ``model`` is ``mapper`` or its DistributedDataParallel wrapper: call ``model`` for every
      use of weights that need a gradient. The loop steps the optimiser and constrains.
      State carried from batch to batch (a recurrent hidden state) lives on the task; every
      epoch's first batch must start it afresh, so that a resumed run matches.
    - ``evaluation(data_dir, info, config)`` returns the ``Evaluation`` of the run.
    - ``write_outputs(directory, data_dir, mapper, device)`` writes the files ``outputs``
      names into the final checkpoint, whence they are copied beside the run's config (the
      user-item task: user and item embeddings).
    - ``baselines(data_dir, config, split)``: metrics of models that need no training, shown
      beside the model's by ``raytrec train``, ``raytrec evaluate`` and ``raytrec tune``.
    - ``check(config, info, parts)``: what only the data can refute, as ``Problem``s, run on
      the driver before a run directory exists (``parts``: the sampler, loss and mapper built
      from the config, the mapper set up on the ``meta`` device, without memory).
    """

    mapper_base: ClassVar[type[ItemModel]] = Mapper
    # Whether scoring goes through the configured retriever (``Evaluation`` receives it
    # either way); a task that ranks exactly says False and the summary names no index.
    uses_retriever: ClassVar[bool] = True
    # Whether ``raytrec export`` and ``recommend`` serve its runs: user ids as queries, user
    # and item embeddings among ``outputs``.
    servable: ClassVar[bool] = False
    # The files ``write_outputs`` writes, copied beside the run's config when it ends.
    outputs: ClassVar[tuple[str, ...]] = ()
    # Column labels of the test groups ``Evaluation.test`` returns beside ``"test"``.
    group_labels: ClassVar[dict[str, str]] = {}
    # Options of the ``task`` section that change only how a trained model is scored, so
    # that ``raytrec evaluate --set task.KEY=VALUE`` may change them (the others shape the
    # prepared data or the training: changing them needs a new run).
    rescorable: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def prepare(self, raw: RawData, split: SplitConfig, out_dir: Path) -> None:
        """Write the prepared data of ``raw`` into ``out_dir``."""

    def prepare_on_cluster(self, dataset: Dataset, split: SplitConfig, out_dir: Path) -> None:
        """``prepare`` under ``prepare.engine: ray``: the same files, written by Ray Data
        stages on the cluster from ``dataset``'s files, never loaded on the driver. Optional:
        a task that does not override it prepares on the driver only, and says so."""
        raise DataError(f"the {type(self).__name__} task prepares its data on the driver only; "
                        "set prepare.engine: pandas")

    @property
    def on_cluster(self) -> bool:
        """Whether the task prepares on the cluster (overrides ``prepare_on_cluster``)."""
        return type(self).prepare_on_cluster is not Task.prepare_on_cluster

    @abstractmethod
    def training_info(self, data_dir: Path) -> DataInfo:
        """What components set themselves up from, read from the prepared data."""

    def worker_info(self, data_dir: Path, rank: int, world_size: int) -> DataInfo:
        """``training_info`` as worker ``rank`` of ``world_size`` needs it. A task whose
        ``batches`` give worker ``rank`` only the queries ``q % world_size == rank``, and whose
        evaluation scores those on that rank (``evaluation.distributed.evaluate_split``
        does), may leave the other queries' pairs out of ``positives`` (``DataInfo.part``)
        and so hold a share of them; by default every worker reads them all."""
        return self.training_info(data_dir)

    @abstractmethod
    def batches(self, data_dir: Path, info: DataInfo, config: RunConfig, rank: int,
                world_size: int, device: torch.device, loss: Loss) -> Batches:
        """This worker's training batches, on ``device``."""

    @abstractmethod
    def batch_loss(self, model: nn.Module, mapper: ItemModel, sampler: Sampler, loss: Loss,
                   batch: Any, generator: torch.Generator) -> LossOutput:
        """The loss of one of ``batches``' batches."""

    @abstractmethod
    def evaluation(self, data_dir: Path, info: DataInfo, config: RunConfig) -> Evaluation:
        """How this run is scored on validation and test."""

    def write_outputs(self, directory: Path, data_dir: Path, mapper: ItemModel,
                      device: torch.device) -> None:
        """Files beside the model in the final checkpoint; none by default."""
        return None

    def baselines(self, data_dir: Path, config: RunConfig, split: str,
                  quick: bool = False) -> Baselines:
        """Metrics on ``split`` (``valid`` or ``test``) of models that need no training, by
        name, shown beside the model's; ``quick``: only those that cost little (a search's
        summary). None by default."""
        return Baselines()

    def check(self, config: RunConfig, info: DataInfo,
              parts: dict[str, Any]) -> list[Problem]:
        """Problems only the prepared data shows; none by default."""
        return []

