"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/scale.py [--smoke-test] [--threads N]
    [--skip-implicit] [--sparse auto|true|false]

How the cost of one training step grows with the catalogue: positives/s of raytrec's CML step
(d=64, B=4096, U=20 uniform candidates) and BPR step (one negative) at 10k, 100k and 1M items,
100k users, ~1M synthetic positives each (``raytrec.data.synthetic``), in the same run; beside
BPR, ``implicit``'s BPR on the same positives and threads. The steps are the training
loop's (``common.steps.LoopStep``) on parts built from a resolved config, as in
``benchmarks/throughput.py``, and are timed in interleaved rounds after warm-up steps, so that
a burst of load from another process hits every size alike. One JSON line per model and size;
the ``*_vs_smallest`` fields are the ratios to the 10k-item rate of the same model.
``minor_faults_per_step`` counts page faults: a fresh table-sized allocation per step would
show as one fault per 4 KiB of the table. A ``gather`` line per size times what no step can
avoid: reading B·U random rows of the (I, D) table (``index_select``), which stays in cache
at 10k items and goes to memory at 1M.
``--sparse`` sets ``train.sparse`` (default ``auto``: row-sparse ID tables; ``false``: the
dense updates of whole tables, for comparison).
"""

from __future__ import annotations

import logging
import resource
import statistics
import time
from dataclasses import replace

import torch
from common.runs import emit
from common.setup import arguments, start_benchmark
from common.steps import LARGE, Batches, Sizes, data_info, loop_step, positives, raytrec_config
from common.timing import Measured, implicit_bpr, timed_round

logger = logging.getLogger("benchmarks.scale")

BASE = LARGE
CATALOGUES = (10_000, 100_000, 1_000_000)
SMOKE = Sizes(2_000, 1_000, 5.0, 16, 256, 20, warmup=1, rounds=2, round_s=0.2, implicit_s=0.3)
SMOKE_CATALOGUES = (1_000, 5_000)
MODELS = {"cml": {}, "bpr": {"num_negatives": 1}}


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true", help="tiny sizes, < 60 s")
    parser.add_argument("--skip-implicit", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sparse", choices=["auto", "true", "false"], default="auto")
    args = parser.parse_args(argv)
    start_benchmark()
    torch.set_num_threads(args.threads)
    base, catalogues = (SMOKE, SMOKE_CATALOGUES) if args.smoke_test else (BASE, CATALOGUES)
    sparse = {"true": True, "false": False}.get(args.sparse, "auto")
    steps, batches, data = {}, {}, {}
    for num_items in catalogues:
        sizes = replace(base, num_items=num_items)
        users, items = data[num_items] = positives(sizes)
        logger.info("%d items: %d positives", num_items, len(users))
        batches[num_items] = Batches(users, items, sizes.batch)
        for model, sampler in MODELS.items():
            config = raytrec_config(sizes, model, sampler, sparse)
            steps[model, num_items] = loop_step(config, data_info(sizes, users, items))
    for key, step in steps.items():
        logger.info("warm-up %s", key)
        for _ in range(base.warmup):
            step(*batches[key[1]].next())
    found = {key: Measured() for key in steps}
    faults = dict.fromkeys(steps, 0)
    for r in range(base.rounds):
        for key, step in steps.items():
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            times = timed_round(step, batches[key[1]], base.round_s)
            faults[key] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
            found[key].step_seconds += times
            found[key].rounds.append(len(times) * base.batch / sum(times))
        logger.info("round %d/%d", r + 1, base.rounds)
    smallest = catalogues[0]
    for (model, num_items), m in found.items():
        rate = m.rate(base.batch)
        emit({"model": f"raytrec-{model}", "num_items": num_items, "num_users": base.num_users,
              "positives_per_s": round(rate, 1),
              "median_step_positives_per_s": round(m.median_rate(base.batch), 1),
              "rate_vs_smallest": round(rate / found[model, smallest].rate(base.batch), 3),
              "dim": base.dim, "batch_size": base.batch, "threads": args.threads,
              "sparse": args.sparse, "steps": len(m.step_seconds),
              "minor_faults_per_step": round(faults[model, num_items] / len(m.step_seconds))})
    for num_items in catalogues:
        emit({"probe": "gather", "num_items": num_items, "rows": base.batch * base.candidates,
              "ms": round(gather_ms(num_items, base), 3), "threads": args.threads})
    if args.skip_implicit:
        return
    for num_items in catalogues:
        users, items = data[num_items]
        row = implicit_bpr(users, items, replace(base, num_items=num_items), args.threads)
        ours = found["bpr", num_items].rate(base.batch)
        emit({"model": "implicit-bpr", "num_items": num_items, "num_users": base.num_users,
              "positives_per_s": round(row["positives_per_s"], 1),
              "raytrec_bpr_vs_implicit": round(ours / row["positives_per_s"], 3),
              "iterations": row["iterations"], "threads": args.threads})


def gather_ms(num_items: int, sizes: Sizes, repeats: int = 50) -> float:
    """Median milliseconds to gather B·U random rows of a (num_items, D) table."""
    table = torch.randn(num_items, sizes.dim)
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(num_items, (sizes.batch * sizes.candidates,), generator=gen)
    out = torch.empty(len(ids), sizes.dim)
    times = []
    for _ in range(repeats + 3):
        start = time.perf_counter()
        torch.index_select(table, 0, ids, out=out)
        times.append(time.perf_counter() - start)
    return statistics.median(times[3:]) * 1000


if __name__ == "__main__":
    main()
