"""Whether a run's workers shard their ID tables by rows (``train.sharding``), decided
alike on every worker."""

from __future__ import annotations

import logging
import socket
import zlib

import torch
import torch.distributed as dist

from raytrec.config.run_config import RunConfig
from raytrec.data.base import DataInfo
from raytrec.memory import available_memory, gigabytes, needs_rows, training_bytes
from raytrec.plugins import get_registry

logger = logging.getLogger(__name__)


def shard_by_rows(config: RunConfig, info: DataInfo, rank: int, world: int,
                  device: torch.device) -> bool:
    """``rows`` with 2+ workers, or ``auto`` when, whole, the model and its optimiser state
    would not fit the free memory of some machine of the run, counting every worker on it;
    then every worker shards. Under ``auto`` with 2+ workers a collective: every rank
    calls it."""
    train = config.train
    if world <= 1 or train.sharding == "replicated":
        return False
    if train.sharding == "rows":
        return True
    if train.sparse is False:  # sharded rows are updated row-sparse
        return False
    mapper = get_registry().build("mapper", config.mapper)
    with torch.device("meta"):  # sized, never allocated
        mapper.setup(info)
    machines = _machines(world, device)
    crowded = crowded_machine(mapper, train.optimizer, machines)
    if crowded is not None and rank == 0:
        _, workers, free = crowded
        logger.info("train.sharding: auto shards the ID tables by rows: whole, each of the %d "
                    "workers on one machine would hold %s, and it has %s free", workers,
                    gigabytes(training_bytes(mapper, train.optimizer)), gigabytes(free))
    return crowded is not None


def crowded_machine(mapper: torch.nn.Module, optimizer: str,
                    machines: list[tuple[str, int | None]]) -> tuple[str, int, int] | None:
    """The first machine (host name, its workers, its least free memory) whose workers, one
    per entry of ``machines`` (host name, free bytes if known), could not all hold the whole
    model and its optimiser state; None when every machine's could."""
    for host in sorted({host for host, _ in machines}):
        here = [free for name, free in machines if name == host]
        known = [free for free in here if free is not None]
        if known and needs_rows(mapper, optimizer, len(here), min(known)):
            return host, len(here), min(known)
    return None


def _machines(world: int, device: torch.device) -> list[tuple[str, int | None]]:
    """Every rank's machine and its free memory (a collective on ``device``): the machine
    as a checksum of its host name, the same in every process."""
    free = available_memory()
    mine = torch.tensor([zlib.crc32(socket.gethostname().encode()), -1 if free is None else free],
                        dtype=torch.int64, device=device)
    every = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(every, mine)
    return [(str(int(host)), None if int(free) < 0 else int(free))
            for host, free in (t.tolist() for t in every)]
