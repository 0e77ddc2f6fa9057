"""Scripts run as ranks of a gloo process group on this machine, without Ray."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import torch.distributed as dist


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(script: Path, world: int, args: list[str], timeout: float = 120) -> None:
    """``python script RANK WORLD PORT *args`` for each rank at once; fails with a rank's
    stderr when it fails, kills them all when one outlives ``timeout``."""
    port = free_port()
    procs = [subprocess.Popen([sys.executable, str(script), str(rank), str(world), str(port),
                               *args], stderr=subprocess.PIPE, text=True)
             for rank in range(world)]
    for proc in procs:
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise
        assert proc.returncode == 0, err[-3000:]


def join(rank: int, world: int, port: int) -> None:
    """Join the group of ``run_ranks`` (nothing for one rank)."""
    if world > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        dist.init_process_group("gloo", rank=rank, world_size=world,
                                timeout=timedelta(seconds=60))


def leave(world: int) -> None:
    """Leave together: neither rank tears gloo down while the other still talks to it; then
    end the process at once. Objects still holding the group (DDP's reducer, the optimiser's
    exchange) would otherwise free gloo's worker threads during interpreter finalization,
    which now and then aborts with "terminate called without an active exception"."""
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
