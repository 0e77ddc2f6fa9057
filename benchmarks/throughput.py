"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/throughput.py [--smoke-test]

Training throughput (positives per second) of one CML/BPR step, raytrec against yardsticks.

Tables sized like MovieLens-1M (6040 users, 3706 items), d=100, batches of B=4096 positives
drawn from ~1M synthetic positives (``raytrec.data.synthetic``), U=20 candidates per positive.
One JSON line per model on stdout (logs go to stderr):

- ``plain-cml``: the yardstick, a plain PyTorch CML step written below: nn.Embedding tables
  (dense gradients), every one of the U candidates gathered with gradient, hinge over all U,
  hardest per positive, WARP weight ``log(J·M/U + 1)``, covariance loss, dense Adagrad,
  unit-ball renorm of both tables.
- ``raytrec-cml``: the training loop's step (the task's ``batch_loss``, then ``apply_step``:
  ``common.steps.LoopStep``) on the mapper, sampler and loss built by
  ``raytrec.train.parts.build_parts`` from a resolved config, placed as the loop places them.
- ``raytrec-cml-no-exclusion``: the same with ``sampler.exclude_positives: false``, so that its
  candidates are drawn exactly like the plain step's (raytrec's default redraws candidates that
  are the user's own training items).
- ``raytrec-cml-pool``: the same with ``sampler.pool_size: 256``: each positive's candidates
  come from 256 items drawn once per batch, so scoring them is one matrix product.
- ``raytrec-bpr``: ``loss: bpr``, ``distance: dot``, one negative per positive.
- ``implicit-bpr``: ``implicit.cpu.bpr.BayesianPersonalizedRanking`` (factors=100) on a CSR
  matrix of the same positives; samples/s = positives × iterations / fit seconds.

The torch models are timed in interleaved rounds (each model for ~0.35 s, then the next)
after warm-up steps, so that a burst of load from another process hits all of them alike; only
ratios within one run mean anything on a shared machine.
"""

from __future__ import annotations

import argparse
import logging
import math
from typing import Any

import torch
from common.runs import emit
from common.setup import arguments, start_benchmark
from common.steps import (
    FULL,
    LAMBDA_C,
    LR,
    MARGIN,
    RAYTREC_MODELS,
    SMOKE,
    Batches,
    Sizes,
    data_info,
    loop_step,
    positives,
    raytrec_config,
)
from common.timing import Measured, Step, implicit_bpr, timed_round
from torch import nn

logger = logging.getLogger("benchmarks.throughput")

# --- plain PyTorch CML, the yardstick -------------------------------------------------------

def plain_covariance(x: torch.Tensor) -> torch.Tensor:
    """Off-diagonal squared covariance of the rows of ``x``, divided by the row count."""
    n = x.shape[0]
    centred = x - x.mean(0, keepdim=True)
    cov = centred.T @ centred / n
    return (cov.pow(2).sum() - cov.diagonal().pow(2).sum()) / n


class PlainCML(nn.Module):
    """CML as one would write it from the paper, with no tricks."""

    def __init__(self, num_users: int, num_items: int, dim: int) -> None:
        super().__init__()
        self.users = nn.Embedding(num_users, dim)
        self.items = nn.Embedding(num_items, dim)
        for table in (self.users, self.items):
            nn.init.normal_(table.weight, std=1.0 / math.sqrt(dim))
        self.clip()

    @torch.no_grad()
    def clip(self) -> None:
        for table in (self.users, self.items):
            table.weight.renorm_(2, 0, 1.0)

    def loss(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        u, p, n = self.users(users), self.items(pos), self.items(neg)  # (B,D) (B,D) (B,U,D)
        d_pos = (u - p).pow(2).sum(-1)
        d_neg = (u.unsqueeze(1) - n).pow(2).sum(-1)
        hinge = torch.relu(MARGIN + d_pos.unsqueeze(1) - d_neg)  # (B, U)
        violators = (hinge > 0).sum(1).to(u.dtype)
        weight = torch.log(violators * (self.items.num_embeddings / neg.shape[1]) + 1.0)
        embedding = (weight * hinge.max(1).values).mean()
        return embedding + LAMBDA_C * plain_covariance(torch.cat([u, p]))


def plain_cml_step(sizes: Sizes) -> Step:
    torch.manual_seed(0)
    model = PlainCML(sizes.num_users, sizes.num_items, sizes.dim)
    optimizer = torch.optim.Adagrad(model.parameters(), lr=LR)
    generator = torch.Generator().manual_seed(1)

    def step(users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        neg = torch.randint(sizes.num_items, (len(users), sizes.candidates), generator=generator)
        optimizer.zero_grad(set_to_none=True)
        loss = model.loss(users, items, neg)
        loss.backward()
        optimizer.step()
        model.clip()
        return loss

    return step


# --- timing ----------------------------------------------------------------------------------

def measure_torch(steps: dict[str, Step], batches: Batches, sizes: Sizes) -> dict[str, Measured]:
    """Warm every model up, then time them in interleaved rounds."""
    for name, step in steps.items():
        logger.info("warm-up %s (%d steps)", name, sizes.warmup)
        for _ in range(sizes.warmup):
            step(*batches.next())
    found = {name: Measured() for name in steps}
    for r in range(sizes.rounds):
        for name, step in steps.items():
            times = timed_round(step, batches, sizes.round_s)
            found[name].step_seconds += times
            found[name].rounds.append(len(times) * sizes.batch / sum(times))
        logger.info("round %d/%d: %s", r + 1, sizes.rounds, ", ".join(
            f"{name} {m.rounds[-1]:,.0f}/s" for name, m in found.items()))
    return found


# --- output ----------------------------------------------------------------------------------

def torch_row(name: str, m: Measured, sizes: Sizes, common: dict[str, Any]) -> dict[str, Any]:
    return {"model": name, "positives_per_s": round(m.rate(sizes.batch), 1),
            "median_step_positives_per_s": round(m.median_rate(sizes.batch), 1),
            "steps": len(m.step_seconds), "seconds": round(m.seconds, 3),
            "round_positives_per_s": [round(x) for x in m.rounds], **common}


def speedups(m: Measured, plain: Measured, batch: int) -> dict[str, float]:
    return {"speedup_vs_plain": round(m.rate(batch) / plain.rate(batch), 3),
            "speedup_vs_plain_median_step": round(m.median_rate(batch) / plain.median_rate(batch),
                                                  3)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true", help="tiny sizes, < 60 s")
    parser.add_argument("--skip-implicit", action="store_true", help="torch models only")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch (and implicit) threads; default: torch's default")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    start_benchmark()
    sizes = SMOKE if args.smoke_test else FULL
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    users, items = positives(sizes)
    logger.info("%d positives, %d users, %d items, %d torch threads", len(users),
                sizes.num_users, sizes.num_items, threads)
    common = {"threads": threads, "batch_size": sizes.batch, "dim": sizes.dim,
              "num_users": sizes.num_users, "num_items": sizes.num_items}
    configs = {name: raytrec_config(sizes, loss, sampler)
               for name, (loss, sampler) in RAYTREC_MODELS.items()}
    steps = {"plain-cml": plain_cml_step(sizes)}
    info = data_info(sizes, users, items)
    steps.update({name: loop_step(config, info) for name, config in configs.items()})
    found = measure_torch(steps, Batches(users, items, sizes.batch), sizes)
    plain = found["plain-cml"]
    emit({**torch_row("plain-cml", plain, sizes, common), "candidates": sizes.candidates})
    for name, config in configs.items():
        row = torch_row(name, found[name], sizes, common)
        sampler = config.sampler.kwargs
        row.update(candidates=sampler["num_negatives"], loss=config.loss.name,
                   exclude_positives=sampler.get("exclude_positives"),
                   pool_size=sampler.get("pool_size"))
        if row["loss"] == "cml":
            row.update(speedups(found[name], plain, sizes.batch))
        emit(row)
    if not args.skip_implicit:
        row = {"model": "implicit-bpr", **implicit_bpr(users, items, sizes, threads), **common}
        row.update(positives_per_s=round(row["positives_per_s"], 1),
                   seconds=round(row["seconds"], 3), candidates=1)
        emit(row)


if __name__ == "__main__":
    main()
