"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/sharding.py [--smoke-test] [--out FILE]

ID tables replicated on every worker against sharded by rows (``train.sharding: rows``),
without Ray: the loop's CML step (``common.steps.LoopStep``: d=64, U=20 candidates scored
through the shards, the hardest selected, the unit-ball clip; Adagrad; every ID table
row-sparse) on 1M items and 100k users (``common.steps.LARGE``), run by W = 1, 2 and 4
processes over gloo on this machine, 1 thread each, every process a batch of 2048 positives
per step (so the global batch grows with W) drawn from its own users' rows (user u on worker
u % W, as the loop reads them: a sharded user table's rows are then the worker's own). One
JSON line per (layout, W): per worker, the ID tables and their optimiser state it holds
(``table_mb``, what ``progress.jsonl`` reports as ``train/table_mb``), its peak RSS, the MB
it received per step (rows, ids and gradients: ``train/exchange_mb_per_step``), milliseconds
per step and of them in the exchange of rows (waits for the others included), and the
global positives/s; each the largest over the workers. Then the ratios the layouts are
judged by: table MB at W against W=1, MB per step at W=4 against W=2, and positives/s of
rows against replicated at W=2 (BPR too). With 4 processes on 2 cores the times are shared
cores' times; memory and bytes are not.
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

PER_WORKER, STEPS, WARMUP = 2048, 20, 3
CASES = [  # (model, layout, workers)
    ("cml", "replicated", 1), ("cml", "replicated", 2), ("cml", "rows", 2),
    ("cml", "replicated", 4), ("cml", "rows", 4),
    ("bpr", "replicated", 2), ("bpr", "rows", 2)]


def worker(model: str, layout: str, rank: int, world: int, port: int, smoke: bool) -> None:
    """One process: prints its figures as one JSON line."""
    import torch
    import torch.distributed as dist
    from common.steps import LARGE, SMOKE, data_info, loop_step, positives, raytrec_config

    from raytrec.train.loop import peak_rss_mb

    torch.set_num_threads(1)
    if world > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        dist.init_process_group("gloo", rank=rank, world_size=world,
                                timeout=timedelta(seconds=300))
    per_worker = 64 if smoke else PER_WORKER
    sizes = replace(SMOKE if smoke else replace(LARGE, num_items=1_000_000),
                    batch=per_worker * world)
    users, pos = positives(sizes)
    config = raytrec_config(sizes, model, {} if model == "cml" else {"num_negatives": 1},
                            sparse=True)
    loop = loop_step(config, data_info(sizes, users, pos), seed=rank,
                     sharded=layout == "rows")
    optimizer = loop.optimizer
    gen = torch.Generator().manual_seed(rank)
    mine = users % world == rank  # a worker's rows: its users' (``read_train_rows``)
    u, i = torch.from_numpy(users[mine]), torch.from_numpy(pos[mine])
    steps = 3 if smoke else STEPS

    def step() -> None:
        idx = torch.randint(len(u), (per_worker,), generator=gen)
        loop(u[idx], i[idx])

    for _ in range(1 if smoke else WARMUP):
        step()
    received, exchanging = optimizer.exchanged_bytes, optimizer.exchange_seconds
    if world > 1:
        dist.barrier()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    ms = (time.perf_counter() - start) / steps * 1000
    print(json.dumps({"ms_per_step": ms, "table_mb": optimizer.table_bytes() / 2**20,
                      "peak_rss_mb": peak_rss_mb(),
                      "mb_per_step": (optimizer.exchanged_bytes - received) / 2**20 / steps,
                      "exchange_ms": (optimizer.exchange_seconds - exchanging) / steps * 1000}))
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def _launch(model: str, layout: str, world: int, smoke: bool) -> dict[str, float]:
    port = free_port()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", model, layout]
    procs = [subprocess.Popen([*cmd, str(rank), str(world), str(port),
                               *(["--smoke-test"] if smoke else [])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for rank in range(world)]
    done = [proc.communicate(timeout=1800) for proc in procs]
    for proc, (_, err) in zip(procs, done, strict=True):
        if proc.returncode:
            raise SystemExit(f"{model} {layout} on {world}: a worker failed:\n{err[-2000:]}")
    rows = [json.loads(out.strip().splitlines()[-1]) for out, _ in done]
    worst = {key: max(row[key] for row in rows) for key in rows[0]}
    per_worker = 64 if smoke else PER_WORKER
    return {"model": model, "layout": layout, "workers": world,
            **{k: round(v, 3) for k, v in worst.items()},
            "positives_per_s": round(per_worker * world / worst["ms_per_step"] * 1000)}


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    if args and args[0] == "--worker":
        model, layout, rank, world, port = args[1], args[2], *map(int, args[3:6])
        worker(model, layout, rank, world, port, "--smoke-test" in args)
        return
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true", help="tiny sizes")
    parser.add_argument("--out", type=Path, help="also append the JSON lines here")
    options = parser.parse_args(args)
    found = {}
    lines = []
    for model, layout, world in CASES:
        row = _launch(model, layout, world, options.smoke_test)
        found[model, layout, world] = row
        lines.append(row)
        print(json.dumps(row), flush=True)
    one = found["cml", "replicated", 1]
    ratios = {"ratios": True}
    for layout in ("replicated", "rows"):
        for world in (2, 4):
            ratios[f"table_mb_{layout}_{world}_vs_1"] = round(
                found["cml", layout, world]["table_mb"] / one["table_mb"], 3)
        ratios[f"mb_per_step_{layout}_4_vs_2"] = round(
            found["cml", layout, 4]["mb_per_step"] / found["cml", layout, 2]["mb_per_step"], 3)
    for model in ("cml", "bpr"):
        ratios[f"positives_per_s_rows_vs_replicated_{model}_2"] = round(
            found[model, "rows", 2]["positives_per_s"]
            / found[model, "replicated", 2]["positives_per_s"], 3)
    lines.append(ratios)
    print(json.dumps(ratios), flush=True)
    if options.out:
        with open(options.out, "a") as fh:
            fh.writelines(json.dumps(line) + "\n" for line in lines)


if __name__ == "__main__":
    main()
