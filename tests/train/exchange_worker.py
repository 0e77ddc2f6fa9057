"""``python exchange_worker.py RANK WORLD PORT MODEL SPARSE OUT [TRANSPORT [SHARDING]]``, run
by ``gloo.run_ranks`` (SPARSE: true, false or auto; OUT holds ``{rank}``; TRANSPORT: direct,
gloo's default, or all_gather (all-to-alls through ``all_to_all_single``); SHARDING:
replicated, or rows to shard every ID table): STEPS training steps on fixed global batches of B
positives and their negatives, this rank taking its share of the rows; writes the mapper's
parameters, sharded tables gathered whole (``OUT``), and what the optimiser exchanged and
held (``OUT.json``).

Run by ``test_exchange.py``: as one worker, and as two or three over gloo, the same steps must
give the same parameters.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import torch
from gloo import join, leave  # beside this script
from torch.nn.parallel import DistributedDataParallel

from raytrec.config import validate, with_defaults
from raytrec.plugins import get_registry
from raytrec.samplers import Negatives
from raytrec.shards import gather_table
from raytrec.shards import transport as routes
from raytrec.testing.common import tiny_info
from raytrec.train.optim import build_optimizer
from raytrec.train.parts import build_parts
from raytrec.train.session import distribute
from raytrec.train.step import train_step

USERS, ITEMS, B, N, STEPS = 64, 200, 36, 5, 6  # B: even shares on 2 and 3 workers

CONFIGS: dict[str, dict[str, Any]] = {
    # lambda_c 0: the covariance regulariser is a statistic of each worker's batch.
    "cml": {"mapper": {"name": "embedding", "dim": 8, "distance": "l2", "max_norm": 1.0},
            "loss": {"name": "cml", "margin": 0.5, "lambda_c": 0.0}},
    "bpr": {"mapper": {"name": "embedding", "dim": 8, "distance": "dot"},
            "loss": {"name": "bpr", "l2": 0.01}},
    # No hidden layer: batch normalisation would be a statistic of each worker's batch.
    "two-tower": {"mapper": {"name": "two-tower", "dim": 8, "id_dim": 8, "hidden": [],
                             "item_features": {"multi_hot": ["genres"]}},
                  "loss": {"name": "infonce", "temperature": 0.2, "learnable": True}},
}


class Given:
    """The negatives the driver sets before each step."""

    ids: torch.Tensor

    def sample(self, users: torch.Tensor, items: torch.Tensor,
               generator: torch.Generator) -> Negatives:
        return Negatives(self.ids, torch.zeros(self.ids.shape), shared=False)


def main(rank: int, world: int, port: int, model: str, sparse: str, out: str,
         transport: str = "direct", sharding: str = "replicated") -> None:
    torch.set_num_threads(1)
    if transport == "all_gather":
        routes.DIRECT_MAX = 0  # the path of NCCL and of large gloo groups
    out = out.format(rank=rank)
    join(rank, world, port)
    raw = {**CONFIGS[model], "sampler": {"name": "uniform", "num_negatives": N},
           # auto, with batch_size 80 for its rule (bar 80 and 160): the 64-row user
           # table dense (under DDP), the 200-row item table row-sparse, on 1 and 2 workers.
           "train": {"optimizer": "adagrad", "lr": 0.1, "weight_decay": 0.001,
                     "sparse": {"true": True, "false": False}.get(sparse, "auto"),
                     "batch_size": 80}}
    config = validate(with_defaults(raw), get_registry())
    torch.manual_seed(0)
    parts = build_parts(config, tiny_info(num_users=USERS, num_items=ITEMS))
    mapper, loss = parts.mapper, parts.loss
    if sharding == "rows":
        mapper.shard_tables(mapper.id_tables, rank, world)
    optimizer = build_optimizer(config, mapper, loss.parameters())
    wrapped = distribute(mapper, tuple(optimizer.tables), torch.device("cpu"))
    sampler = Given()
    data = torch.Generator().manual_seed(1)
    for _ in range(STEPS):
        users = torch.randint(USERS, (B,), generator=data)
        items = torch.randint(ITEMS, (B,), generator=data)
        negatives = torch.randint(ITEMS, (B, N), generator=data)
        mine = slice(rank * B // world, (rank + 1) * B // world)
        sampler.ids = negatives[mine]
        train_step(wrapped, mapper, sampler, loss, optimizer, users[mine], items[mine],
                   data)
    state = mapper.state_dict()
    for name, shard in mapper.shards.items():
        state[name] = gather_table(shard)
    torch.save({**state, **{f"loss.{k}": v for k, v in loss.state_dict().items()}}, out)
    with open(out + ".json", "w") as fh:
        json.dump({"exchanged_bytes": optimizer.exchanged_bytes,
                   "ddp": isinstance(wrapped, DistributedDataParallel),
                   "broadcast_buffers": sorted(getattr(wrapped, "named_module_buffers", {})),
                   "tables": list(optimizer.tables), "table_bytes": optimizer.table_bytes(),
                   "sharded": list(mapper.shards)}, fh)
    leave(world)


if __name__ == "__main__":
    r, w, p, *rest = sys.argv[1:]
    main(int(r), int(w), int(p), *rest)
