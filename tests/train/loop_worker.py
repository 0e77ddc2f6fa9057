"""``python loop_worker.py RANK WORLD PORT RUN_DIR OUT KEY=VALUE...``, run by
``gloo.run_ranks``: the training loop of the run in ``RUN_DIR`` (made by ``create_job``) as
one of WORLD gloo ranks, its train section changed by the ``KEY=VALUE`` pairs (``sharding``,
``epochs``; ``stop_after``: end the process after that many epochs, as a crash would;
``free``: the bytes of memory this machine has free, as ``train.sharding: auto`` reads them).
Checkpoints go to ``RUN_DIR/gloo/checkpoint_*``, each rank's files merged into one directory
as Ray Train merges them; rank 0 writes the summary to ``OUT``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from gloo import join, leave  # beside this script

from raytrec.layout import STATE_FILE
from raytrec.run.job import load_job
from raytrec.train import placement
from raytrec.train.checkpoint import newest_readable
from raytrec.train.loop import train_loop
from raytrec.train.session import distribute
from raytrec.train.shard_state import Placement


class GlooSession:
    """A rank of a plain gloo group, checkpointing as a Ray Train worker would."""

    device = torch.device("cpu")

    def __init__(self, rank: int, world: int, root: Path, stop_after: int | None) -> None:
        self.rank, self.world_size, self.root = rank, world, root
        self.stop_after, self.epochs = stop_after, 0
        self.root.mkdir(exist_ok=True)
        # Every rank starts before any reports: they all number checkpoints alike.
        self.count = len(list(self.root.glob("checkpoint_*")))

    def prepare(self, module: torch.nn.Module, ignore: tuple[str, ...] = ()) -> torch.nn.Module:
        return distribute(module, ignore, self.device)

    def load_state(self, placement: Placement | None = None,
                   tables: dict[str, int] | None = None) -> dict[str, Any] | None:
        done = sorted(p for p in self.root.glob("checkpoint_*") if (p / STATE_FILE).exists())
        return newest_readable(done, placement, tables)

    def report(self, metrics: dict[str, Any], checkpoint_dir: Path | None) -> None:
        target = self.root / f"checkpoint_{self.count:06d}"
        self.count += 1
        if checkpoint_dir is not None:
            target.mkdir(exist_ok=True)
            for path in Path(checkpoint_dir).iterdir():
                if path.is_file():
                    shutil.copyfile(path, target / path.name)
        if self.world_size > 1:
            dist.barrier()
        self.epochs += 1
        if self.stop_after is not None and self.epochs >= self.stop_after:
            sys.stdout.flush()
            os._exit(0)


def main(rank: int, world: int, port: int, run_dir: str, out: str, *pairs: str) -> None:
    torch.set_num_threads(1)
    join(rank, world, port)
    changes = dict(pair.split("=", 1) for pair in pairs)
    stop_after = int(changes.pop("stop_after")) if "stop_after" in changes else None
    if "free" in changes:
        free = int(changes.pop("free"))
        placement.available_memory = lambda: free
    job = load_job(Path(run_dir))
    train = dataclasses.replace(job.config.train, **{
        k: int(v) if v.isdigit() else v for k, v in changes.items()})
    payload = {**job.payload(), "config": dataclasses.replace(job.config, train=train)}
    session = GlooSession(rank, world, Path(run_dir) / "gloo", stop_after)
    summary = train_loop(payload, session)
    if rank == 0:
        Path(out).write_text(json.dumps(summary, default=float))
    leave(world)


if __name__ == "__main__":
    r, w, p, *rest = sys.argv[1:]
    main(int(r), int(w), int(p), *rest)
