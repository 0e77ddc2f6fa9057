"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/profile_step.py [--smoke-test] \\
    [--model raytrec-cml] [--threads N]

Where the time of one raytrec training step goes: phases, then the costliest torch ops.

Same sizes and parts as benchmarks/throughput.py (MovieLens-1M-sized tables, d=100, B=4096,
U=20). The sampler's ``sample``, the mapper's ``score_candidates`` and ``forward``, the loss's
``select`` and ``forward``, the optimizer's ``step`` and the mapper's ``constrain`` are wrapped
with wall-clock timers; what is left of the loop's step (``common.steps.LoopStep``: the task's
``batch_loss``, then ``apply_step``) is mostly ``backward``. One JSON line per
phase (``"phase"``, median ms per step), then one per torch op of the top 15 by self CPU time
under ``torch.profiler`` (``"op"``, input shapes, ms per step), all tagged with ``"model"``.
Run with ``--threads 1`` for stable numbers on a shared machine.
"""

from __future__ import annotations

import functools
import json
import logging
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import torch
from common.setup import arguments, start_benchmark
from common.steps import (
    FULL,
    RAYTREC_MODELS,
    SMOKE,
    Batches,
    LoopStep,
    Sizes,
    data_info,
    loop_step,
    positives,
    raytrec_config,
)
from torch.profiler import ProfilerActivity, profile

logger = logging.getLogger("benchmarks.profile_step")

TOP_OPS = 15


class PhaseTimer:
    """Wall seconds spent in wrapped methods, per step."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.steps: list[dict[str, float]] = []

    def wrap(self, obj: Any, method: str, phase: str) -> None:
        inner: Callable[..., Any] = getattr(obj, method)

        @functools.wraps(inner)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.current[phase] += time.perf_counter() - start

        setattr(obj, method, timed)

    def end_step(self, total: float) -> None:
        row = dict(self.current)
        row["backward + rest"] = total - sum(row.values())
        row["total"] = total
        self.steps.append(row)
        self.current = defaultdict(float)

    def medians_ms(self) -> dict[str, float]:
        names = self.steps[0].keys()
        return {n: 1e3 * statistics.median(s.get(n, 0.0) for s in self.steps) for n in names}


def build(sizes: Sizes, model: str) -> tuple[LoopStep, Batches]:
    users, items = positives(sizes)
    loss, sampler = RAYTREC_MODELS[model]
    config = raytrec_config(sizes, loss, sampler)
    return loop_step(config, data_info(sizes, users, items)), Batches(users, items, sizes.batch)


def instrument(step: LoopStep) -> PhaseTimer:
    timer = PhaseTimer()
    timer.wrap(step.sampler, "sample", "sample")
    timer.wrap(step.mapper, "score_candidates", "score_candidates (no grad)")
    timer.wrap(step.loss, "select", "loss.select")
    timer.wrap(step.mapper, "forward", "mapper.forward")
    timer.wrap(step.loss, "forward", "loss.forward")
    timer.wrap(step.optimizer, "step", "optimizer.step")
    timer.wrap(step.mapper, "constrain", "constrain")
    return timer


def op_rows(prof: profile, steps: int) -> list[dict[str, Any]]:
    events = sorted(prof.key_averages(group_by_input_shape=True),
                    key=lambda e: -e.self_cpu_time_total)[:TOP_OPS]
    return [{"op": e.key, "shapes": str(e.input_shapes)[:120], "calls_per_step": e.count // steps,
             "ms_per_step": round(e.self_cpu_time_total / 1e3 / steps, 3)} for e in events]


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true", help="tiny sizes, < 60 s")
    parser.add_argument("--model", choices=sorted(RAYTREC_MODELS), default="raytrec-cml")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--steps", type=int, default=30, help="timed steps (default 30)")
    args = parser.parse_args(argv)
    start_benchmark()
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = SMOKE if args.smoke_test else FULL
    steps = 5 if args.smoke_test else args.steps
    step, batches = build(sizes, args.model)
    for _ in range(sizes.warmup):
        step(*batches.next())
    timer = instrument(step)
    for _ in range(steps):
        users, items = batches.next()
        start = time.perf_counter()
        step(users, items)
        timer.end_step(time.perf_counter() - start)
    tags = {"model": args.model, "threads": torch.get_num_threads(), "steps": steps}
    for phase, ms in timer.medians_ms().items():
        print(json.dumps({**tags, "phase": phase, "median_ms": round(ms, 3)}), flush=True)
    batch_list = [batches.next() for _ in range(steps)]
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for users, items in batch_list:
            step(users, items)
    for row in op_rows(prof, steps):
        print(json.dumps({**tags, **row}), flush=True)


if __name__ == "__main__":
    main()
