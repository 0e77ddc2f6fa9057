"""/tmp/trvenv/bin/python benchmarks/torchrec/q1_optimizers.py [--aib] [--ebc] [OPT ...]

Which optimizers a row-wise sharded TorchRec table trains with on the CPU (2 processes, gloo):
for each ``OPT``, a 1000x16 table ``t`` (``sharded.build_sharded_ec``) is built with
``fused_params={"optimizer": EmbOptimType.OPT, "learning_rate": 0.1}`` and trained 2 steps
(64 random ids per rank, loss = sum(rows^2)). With ``--aib`` there are no fused_params and
``OPT`` (``Adagrad``, ``SGD``, ``Adam``: ``torch.optim``; anything else:
``torchrec.optim.RowWiseAdagrad``) goes through ``apply_optimizer_in_backward``. With
``--ebc`` the table is an ``EmbeddingBagCollection`` instead of an ``EmbeddingCollection``.
Rank 0 prints the plan and the type of ``model.fused_optimizer``; each rank prints how many
rows of its shard changed; then one ``RESULT`` line per ``OPT``: OK, or FAILED with the
exception and the last line of its message. Without ``OPT``, every ``EmbOptimType`` of
``FUSED`` (or every optimizer of ``AIB`` with ``--aib``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
from sharded import build_sharded_ec, kjt, local_shard, run

FUSED = ("EXACT_ADAGRAD", "EXACT_ROWWISE_ADAGRAD", "EXACT_SGD", "ADAM", "PARTIAL_ROWWISE_ADAM",
         "LAMB", "PARTIAL_ROWWISE_LAMB", "LARS_SGD", "MADGRAD", "SGD", "ROWWISE_ADAGRAD")
AIB = ("Adagrad", "SGD", "RowWiseAdagrad", "Adam")


def body(rank: int, world: int, opt: str, via_aib: bool, kind: str) -> None:
    """One rank: builds the sharded table with ``opt``, trains 2 steps, prints rows changed."""
    if via_aib:
        optc: Any = {"Adagrad": torch.optim.Adagrad, "SGD": torch.optim.SGD,
                     "Adam": torch.optim.Adam}.get(opt)
        if optc is None:
            from torchrec.optim import RowWiseAdagrad
            optc = RowWiseAdagrad
        model, plan = build_sharded_ec(optc, 0.1, use_apply_in_backward=True, kind=kind)
    else:
        model, plan = build_sharded_ec(opt, 0.1, kind=kind)
    if rank == 0:
        chosen = {m: {p: (s.sharding_type, s.compute_kernel) for p, s in v.items()}
                  for m, v in plan.plan.items()}
        print("plan:", chosen, flush=True)
        print("fused_optimizer:", type(model.fused_optimizer).__name__, flush=True)
    before = local_shard(model)[0].detach().clone()
    g = torch.Generator().manual_seed(rank)
    for _ in range(2):
        ids = torch.randint(0, 1000, (64,), generator=g)
        out = model(kjt({"f": ids}))
        v = out["f"].values() if kind == "ec" else out.values()
        (v ** 2).sum().backward()
    after = local_shard(model)[0].detach()
    changed = (after - before).abs().sum(1).gt(0).sum().item()
    print(f"[rank {rank}] opt={opt} via_aib={via_aib} kind={kind} OK; "
          f"rows changed in local shard: {changed}", flush=True)


def main() -> None:
    """Runs ``body`` on 2 spawned ranks for each optimizer named and prints a RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aib", action="store_true",
                        help="apply_optimizer_in_backward instead of fused_params")
    parser.add_argument("--ebc", action="store_true", help="EmbeddingBagCollection")
    parser.add_argument("opts", nargs="*", help="EmbOptimType names (or optimizers with --aib)")
    args = parser.parse_args()
    kind = "ebc" if args.ebc else "ec"
    opts = args.opts or (AIB if args.aib else FUSED)
    for opt in opts:
        t = time.time()
        try:
            run(body, 2, opt, args.aib, kind)
            print(f"RESULT {opt} aib={args.aib} {kind}: OK ({time.time() - t:.1f}s)", flush=True)
        except Exception as e:
            lines = [line for line in str(e).splitlines() if line.strip()]
            last = lines[-1].strip() if lines else ""
            print(f"RESULT {opt} aib={args.aib} {kind}: FAILED {type(e).__name__}: {last}",
                  flush=True)


if __name__ == "__main__":
    main()
