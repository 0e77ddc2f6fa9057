"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/exchange.py [--smoke-test]

What the exchange between workers costs, without Ray: the CML step of ``throughput.py``
(the loop's step, ``common.steps.LoopStep``, d=100, U=20, row-sparse tables under
``train.sparse: auto``) run by 1 process and by 2 processes over gloo on this machine (1
thread each), each of the 2 taking half of every batch, at MovieLens-1M size with B=4096 and
B=16384 and with 1M items (``common.steps.LARGE``) at B=4096, the last once more with the
rows sent by ``all_gather`` (the path of NCCL
and of large gloo groups) instead of pairwise. One JSON line per case: milliseconds per step
of each layout, global positives/s, the speed-up of 2 processes, and for the 2-process run
the milliseconds per step spent in the ID-table exchange (``RunOptimizer.exchange_seconds``,
waits for the other process included). Then one ``transport`` line per payload size: the
milliseconds of one gloo ``all_gather`` of that many bytes per process between the 2
processes, and of the same bytes swapped with ``isend``/``irecv``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from common.ranks import free_port
from common.setup import arguments

CASES = {"ml1m-sized-b4096": (None, 4096, "pairwise"),
         "ml1m-sized-b16384": (None, 16384, "pairwise"),
         "1m-items-b4096": (1_000_000, 4096, "pairwise"),
         "1m-items-b4096-all-gather": (1_000_000, 4096, "all_gather")}
SMOKE_CASES = {"smoke": (None, 256, "pairwise")}
STEPS, WARMUP = 30, 5


def worker(case: str, rank: int, world: int, port: int, smoke: bool) -> None:
    """One process of a case: prints its ms per step and exchange ms per step."""
    import torch
    import torch.distributed as dist
    from common.steps import FULL, LARGE, SMOKE, data_info, loop_step, positives, raytrec_config

    from raytrec.shards import transport as routes
    from raytrec.train import rows

    torch.set_num_threads(1)
    if world > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        dist.init_process_group("gloo", rank=rank, world_size=world,
                                timeout=timedelta(seconds=120))
    items, batch, transport = (SMOKE_CASES if smoke else CASES)[case]
    if transport == "all_gather":
        routes.DIRECT_MAX = 0
    sizes = SMOKE if smoke else replace(LARGE, num_items=items) if items else FULL
    sizes = replace(sizes, batch=batch)
    users, pos = positives(sizes)
    config = raytrec_config(sizes, "cml", {})
    loop = loop_step(config, data_info(sizes, users, pos), seed=rank)  # DDP as the loop has it
    optimizer = loop.optimizer
    gen = torch.Generator().manual_seed(rank)
    u, i = torch.from_numpy(users), torch.from_numpy(pos)
    steps = 3 if smoke else STEPS

    def step() -> None:
        idx = torch.randint(len(u), (batch // world,), generator=gen)
        loop(u[idx], i[idx])

    for _ in range(1 if smoke else WARMUP):
        step()
    exchanged = optimizer.exchange_seconds
    start = time.perf_counter()
    for _ in range(steps):
        step()
    ms = (time.perf_counter() - start) / steps * 1000
    print(json.dumps({"ms_per_step": ms, "batch": batch,
                      "exchange_ms": (optimizer.exchange_seconds - exchanged) / steps * 1000}))
    if world > 1 and case == next(iter(SMOKE_CASES if smoke else CASES)):
        for mb in (0.5, 2.0, 8.0):
            x = torch.zeros(int(mb * 2**20 / 4))
            sizes = torch.full((world,), len(x))
            found = {}
            for name, send in (("all_gather", rows.send_all_gather),
                               ("pairwise", rows.send_pairwise)):
                send(x.view(-1, 1), sizes)
                dist.barrier()
                start = time.perf_counter()
                for _ in range(10):
                    send(x.view(-1, 1), sizes)
                found[f"{name}_ms"] = (time.perf_counter() - start) / 10 * 1000
            if rank == 0:
                print(json.dumps({"transport_mb": mb, **found}))
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def _launch(case: str, world: int, smoke: bool) -> list[dict]:
    port = free_port()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", case]
    procs = [subprocess.Popen([*cmd, str(rank), str(world), str(port),
                               *(["--smoke-test"] if smoke else [])],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
             for rank in range(world)]
    outs = [proc.communicate(timeout=900)[0] for proc in procs]
    if any(proc.returncode for proc in procs):
        raise SystemExit(f"{case}: a worker process failed")
    return [json.loads(line) for line in outs[0].splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    if args and args[0] == "--worker":
        case, rank, world, port = args[1], int(args[2]), int(args[3]), int(args[4])
        worker(case, rank, world, port, "--smoke-test" in args)
        return
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true", help="tiny sizes")
    smoke = parser.parse_args(args).smoke_test
    probes = []
    for case in SMOKE_CASES if smoke else CASES:
        (one,) = _launch(case, 1, smoke)
        two, *extra = _launch(case, 2, smoke)
        probes += extra
        print(json.dumps({
            "case": case, "batch": one["batch"], "ms_per_step_1": round(one["ms_per_step"], 2),
            "ms_per_step_2": round(two["ms_per_step"], 2),
            "positives_per_s_1": round(one["batch"] / one["ms_per_step"] * 1000),
            "positives_per_s_2": round(two["batch"] / two["ms_per_step"] * 1000),
            "speed_up_2": round(one["ms_per_step"] / two["ms_per_step"], 3),
            "exchange_ms_per_step_2": round(two["exchange_ms"], 2)}), flush=True)
    for row in probes:
        print(json.dumps({k: round(v, 3) for k, v in row.items()}))


if __name__ == "__main__":
    main()
