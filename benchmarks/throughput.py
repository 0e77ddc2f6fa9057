"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/throughput.py [--smoke-test]

Training throughput (positives per second) of one CML/BPR step, raytrec against yardsticks.

Tables sized like MovieLens-1M (6040 users, 3706 items), d=100, batches of B=4096 positives
drawn from ~1M synthetic positives (``raytrec.data.synthetic``), U=20 candidates per positive.
One JSON line per model on stdout (logs go to stderr):

- ``plain-cml``: the yardstick, a plain PyTorch CML step written below: nn.Embedding tables
  (dense gradients), every one of the U candidates gathered with gradient, hinge over all U,
  hardest per positive, WARP weight ``log(J·M/U + 1)``, covariance loss, dense Adagrad,
  unit-ball renorm of both tables.
- ``raytrec-cml``: ``raytrec.train.step.train_step`` with the mapper, sampler and loss built by
  ``raytrec.train.build.build_parts`` from a resolved config, as the training loop does.
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
import json
import logging
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from raytrec.config import validate, with_defaults
from raytrec.data.base import DataInfo
from raytrec.data.store import UserItems
from raytrec.data.synthetic import SyntheticDataset
from raytrec.plugins import get_registry
from raytrec.train.build import build_parts
from raytrec.train.optim import build_optimizer
from raytrec.train.step import train_step

logger = logging.getLogger("benchmarks.throughput")

Step = Callable[[torch.Tensor, torch.Tensor], Any]

MARGIN, LAMBDA_C, LR = 0.5, 10.0, 0.05
BPR_L2 = 0.01  # as examples/bpr_ml100k.yaml; it does not change the cost


@dataclass(frozen=True)
class Sizes:
    """Problem size and timing budget."""

    num_users: int
    num_items: int
    per_user: float  # mean positives per user
    dim: int
    batch: int
    candidates: int
    warmup: int  # untimed steps per model
    rounds: int  # interleaved timed rounds per model
    round_s: float  # minimum seconds per round
    implicit_s: float  # minimum seconds of implicit's timed fit


# MovieLens-1M: 6040 users, 3706 items, 1,000,209 ratings (165.6 per user).
FULL = Sizes(6040, 3706, 165.6, 100, 4096, 20, warmup=5, rounds=10, round_s=0.35,
             implicit_s=3.0)
SMOKE = Sizes(300, 200, 20.0, 16, 256, 20, warmup=2, rounds=2, round_s=0.2, implicit_s=0.3)


@dataclass
class Measured:
    """Timed steps of one model, summed over rounds."""

    step_seconds: list[float] = field(default_factory=list)
    rounds: list[float] = field(default_factory=list)  # positives/s of each round

    @property
    def seconds(self) -> float:
        return sum(self.step_seconds)

    def rate(self, batch: int) -> float:
        """Positives per second over all timed steps."""
        return len(self.step_seconds) * batch / self.seconds

    def median_rate(self, batch: int) -> float:
        """Positives per second of the median step: less sensitive to bursts of load."""
        return batch / statistics.median(self.step_seconds)


def positives(sizes: Sizes) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic (user, item) pairs, no pair twice, users and items already 0-based ids."""
    data = SyntheticDataset(num_users=sizes.num_users, num_items=sizes.num_items,
                            interactions_per_user=sizes.per_user, seed=0,
                            timestamps=False).load()
    inter = data.interactions
    return (inter["user"].to_numpy(np.int64, copy=True),
            inter["item"].to_numpy(np.int64, copy=True))


class Batches:
    """Endless shuffled batches of the positives (the same source for every model)."""

    def __init__(self, users: np.ndarray, items: np.ndarray, batch: int, seed: int = 0) -> None:
        self.users, self.items = torch.from_numpy(users), torch.from_numpy(items)
        self.batch = batch
        self.generator = torch.Generator().manual_seed(seed)
        self._perm = torch.empty(0, dtype=torch.int64)
        self._at = 0

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._at + self.batch > len(self._perm):
            self._perm = torch.randperm(len(self.users), generator=self.generator)
            self._at = 0
        idx = self._perm[self._at:self._at + self.batch]
        self._at += self.batch
        return self.users[idx], self.items[idx]


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


# --- raytrec ---------------------------------------------------------------------------------

# (loss, extra sampler arguments) of each raytrec model; unset arguments keep raytrec's defaults.
RAYTREC_MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "raytrec-cml": ("cml", {}),
    # The plain step draws candidates without excluding the user's positives: like for like.
    "raytrec-cml-no-exclusion": ("cml", {"exclude_positives": False}),
    # Each positive's 20 candidates drawn from 256 items shared by the batch: one matmul.
    "raytrec-cml-pool": ("cml", {"pool_size": 256}),
    "raytrec-bpr": ("bpr", {"num_negatives": 1}),
}


def raytrec_config(sizes: Sizes, loss: str, sampler: dict[str, Any],
                   sparse: bool | str = "auto") -> dict[str, Any]:
    """A resolved config, as ``raytrec train`` would hand it to the loop."""
    if loss == "cml":
        raw: dict[str, Any] = {
            "mapper": {"name": "embedding", "dim": sizes.dim, "distance": "l2", "max_norm": 1.0},
            "sampler": {"name": "uniform", "num_negatives": sizes.candidates, **sampler},
            "loss": {"name": "cml", "margin": MARGIN, "lambda_c": LAMBDA_C},
        }
    else:
        raw = {
            "mapper": {"name": "embedding", "dim": sizes.dim, "distance": "dot", "max_norm": None},
            "sampler": {"name": "uniform", **sampler},
            "loss": {"name": "bpr", "l2": BPR_L2},
        }
    raw["train"] = {"batch_size": sizes.batch, "optimizer": "adagrad", "lr": LR, "seed": 0,
                    "sparse": sparse}
    return validate(with_defaults(raw), get_registry(), source="throughput")


def data_info(sizes: Sizes, users: np.ndarray, items: np.ndarray) -> DataInfo:
    """The training statistics of ``users, items``, with every pair: as the loop has them,
    every worker holds all training pairs (samplers may exclude them)."""
    info = DataInfo(num_users=sizes.num_users, num_items=sizes.num_items,
                    item_counts=np.bincount(items, minlength=sizes.num_items),
                    num_train=len(users))
    info.positives = UserItems.from_pairs(users, items, sizes.num_users)
    return info


def raytrec_step(config: dict[str, Any], sizes: Sizes, users: np.ndarray,
                 items: np.ndarray) -> Step:
    """``train_step`` on parts built from ``config`` the way the training loop builds them."""
    info = data_info(sizes, users, items)
    torch.manual_seed(config["train"]["seed"])
    parts = build_parts(config, info)
    mapper = parts.mapper
    mapper.train()
    optimizer = build_optimizer(config, mapper)
    generator = torch.Generator().manual_seed(1)

    def step(u: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        return train_step(mapper, mapper, parts.sampler, parts.loss, optimizer, u, i,
                          generator).loss

    return step


# --- timing ----------------------------------------------------------------------------------

def timed_round(step: Step, batches: Batches, min_seconds: float) -> list[float]:
    """Seconds of each step, stepping until ``min_seconds`` of steps have passed."""
    times: list[float] = []
    while sum(times) < min_seconds:
        users, items = batches.next()
        start = time.perf_counter()
        step(users, items)
        times.append(time.perf_counter() - start)
    return times


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


def implicit_bpr(users: np.ndarray, items: np.ndarray, sizes: Sizes,
                 threads: int) -> dict[str, Any]:
    """implicit's BPR: an untimed 1-iteration fit sizes the timed one (refit if too short)."""
    import scipy.sparse
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    matrix = scipy.sparse.csr_matrix(
        (np.ones(len(users), dtype=np.float32), (users, items)),
        shape=(sizes.num_users, sizes.num_items))

    def fit(iterations: int) -> float:
        model = BayesianPersonalizedRanking(factors=sizes.dim, iterations=iterations,
                                            num_threads=threads, random_state=0)
        start = time.perf_counter()
        model.fit(matrix, show_progress=False)
        return time.perf_counter() - start

    seconds, iterations = fit(1), 1
    while True:
        iterations = max(2, math.ceil(iterations * 1.2 * sizes.implicit_s / seconds))
        seconds = fit(iterations)
        logger.info("implicit-bpr: %d iterations in %.2f s", iterations, seconds)
        if seconds >= sizes.implicit_s:
            break
    return {"positives_per_s": matrix.nnz * iterations / seconds, "iterations": iterations,
            "positives": int(matrix.nnz), "seconds": seconds}


# --- output ----------------------------------------------------------------------------------

def emit(row: dict[str, Any]) -> None:
    print(json.dumps(row), flush=True)


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
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke-test", action="store_true", help="tiny sizes, < 60 s")
    parser.add_argument("--skip-implicit", action="store_true", help="torch models only")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch (and implicit) threads; default: torch's default")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
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
    steps.update({name: raytrec_step(config, sizes, users, items)
                  for name, config in configs.items()})
    found = measure_torch(steps, Batches(users, items, sizes.batch), sizes)
    plain = found["plain-cml"]
    emit({**torch_row("plain-cml", plain, sizes, common), "candidates": sizes.candidates})
    for name, config in configs.items():
        row = torch_row(name, found[name], sizes, common)
        row.update(candidates=config["sampler"]["num_negatives"], loss=config["loss"]["name"],
                   exclude_positives=config["sampler"].get("exclude_positives"),
                   pool_size=config["sampler"].get("pool_size"))
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
