"""/tmp/trvenv/bin/python benchmarks/torchrec/q7_timing.py [OPT] [THREADS] [STEPS]

Speed of a row-wise sharded TorchRec table on the CPU (2 processes, gloo): a 1M x 64 table
``t`` (``sharded.build_sharded_ec``, 500k rows per rank, fused ``OPT``, default
``EXACT_ADAGRAD``, lr 0.05), ``THREADS`` torch threads per rank (default 1), 4096 uniform
random ids per rank per step, loss = sum(v^2), a barrier before each step. Rank 0 prints
the seconds of build and init (planner, DMP, table init); each rank prints the median and
mean milliseconds per step of forward + backward + fused update over ``STEPS`` steps
(default 20) after 3 warm-up steps, the median of the forward part (input and output
all-to-alls included), and the median of a forward alone under ``no_grad`` (10 steps).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
import torch.distributed as dist
from sharded import build_sharded_ec, kjt, run

N, D, B = 1_000_000, 64, 4096
WARMUP = 3


def median_ms(xs: list[float]) -> float:
    """The median (upper middle) of seconds, in milliseconds."""
    return sorted(xs)[len(xs) // 2] * 1e3


def body(rank: int, world: int, opt: str, threads: int, steps: int) -> None:
    """One rank: builds the table, times ``steps`` training steps and 10 no_grad forwards."""
    torch.set_num_threads(threads)
    t0 = time.time()
    model, _ = build_sharded_ec(opt, 0.05, N, D)
    dist.barrier()
    if rank == 0:
        print(f"build+init {time.time() - t0:.1f}s", flush=True)
    g = torch.Generator().manual_seed(rank)
    batches = [torch.randint(0, N, (B,), generator=g) for _ in range(steps + WARMUP)]
    kjts = [kjt({"f": b}) for b in batches]
    times, ftimes = [], []
    for i, k in enumerate(kjts):
        dist.barrier()
        t = time.perf_counter()
        v = model(k)["f"].values()
        tf = time.perf_counter()
        (v * v).sum().backward()
        te = time.perf_counter()
        if i >= WARMUP:
            times.append(te - t)
            ftimes.append(tf - t)
    nt = []  # forward only, under no_grad
    for k in kjts[:10]:
        dist.barrier()
        t = time.perf_counter()
        with torch.no_grad():
            model(k)["f"].values()
        nt.append(time.perf_counter() - t)
    print(f"[rank {rank}] opt={opt} threads={threads}: step(fwd+bwd+update) median "
          f"{median_ms(times):.1f} ms, mean {sum(times) / len(times) * 1e3:.1f} ms; "
          f"fwd part median {median_ms(ftimes):.1f} ms; no_grad fwd median "
          f"{median_ms(nt):.1f} ms over {len(times)} steps", flush=True)


def main() -> None:
    """Parses ``[OPT] [THREADS] [STEPS]`` and runs ``body`` on 2 spawned ranks."""
    opt = sys.argv[1] if len(sys.argv) > 1 else "EXACT_ADAGRAD"
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    run(body, 2, opt, threads, steps)


if __name__ == "__main__":
    main()
