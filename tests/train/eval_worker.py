"""``python eval_worker.py RANK WORLD PORT RETRIEVER OUT``, run by ``gloo.run_ranks``: one
model (the same random tables on every rank) scored through one index over the catalogue,
and with its tables sharded over the WORLD ranks; rank 0 writes both metrics and both top
lists to ``OUT``."""

from __future__ import annotations

import json
import sys

import numpy as np
import torch
from gloo import join, leave  # beside this script

from raytrec.config.sections import EvalSection
from raytrec.data.store import UserItems
from raytrec.evaluation.data import EvalData
from raytrec.evaluation.distributed import evaluate_split
from raytrec.evaluation.sharded import _INDEXED, _search
from raytrec.kinds import ComponentSpec
from raytrec.mappers.embedding import EmbeddingMapper
from raytrec.plugins import get_registry
from raytrec.retrievers import Retriever
from raytrec.testing.common import tiny_info

USERS, ITEMS, K = 90, 401, 20


def main(rank: int, world: int, port: int, retriever: str, out: str) -> None:
    torch.set_num_threads(1)
    join(rank, world, port)
    torch.manual_seed(0)
    info = tiny_info(num_users=USERS, num_items=ITEMS)
    mapper = EmbeddingMapper(dim=8, distance="l2")
    mapper.setup(info)
    rng = np.random.default_rng(1)
    users = rng.integers(0, USERS, 400)
    data = EvalData(UserItems.from_pairs(users, rng.integers(0, ITEMS, 400), USERS),
                    info.positives)
    cfg = EvalSection(ks=[5, K], metric=f"recall@{K}", chunk_size=16)
    registry = get_registry()

    def index() -> Retriever:
        return registry.build("retriever", ComponentSpec(retriever))

    whole = evaluate_split(mapper, index(), data, cfg, rank, world, torch.device("cpu"))
    known = np.random.default_rng(2).random(ITEMS) < 0.7  # items held out: among the others
    among = data.among(known)
    whole_among = evaluate_split(mapper, index(), among, cfg, rank, world, torch.device("cpu"),
                                 items=known)
    every = data.relevant.users()
    with torch.no_grad():
        single = index()
        single.build(mapper.item_emb.detach().numpy(), mapper.distance)
        expected = single.search_excluding(mapper.user_emb[every].numpy(), K, every, data.exclude)
    mapper.shard_tables(mapper.id_tables, rank, world)
    # A sharded worker knows the seen items of its own users only (Task.worker_info).
    data, among = _own(data, rank, world), _own(among, rank, world)
    sharded_index = index()
    parts_among = evaluate_split(mapper, index(), among, cfg, rank, world,
                                 torch.device("cpu"), items=known)
    parts = evaluate_split(mapper, sharded_index, data, cfg, rank, world, torch.device("cpu"))
    mine = every[every % world == rank]
    with torch.no_grad():
        q = mapper.queries(torch.from_numpy(mine)).numpy()
        found = _search(sharded_index, q, mine, data, K, _INDEXED[sharded_index], None)
    gathered = [None] * world
    torch.distributed.all_gather_object(gathered, {"users": mine.tolist(), "top": found.tolist()})
    if rank == 0:
        top = {u: t for part in gathered for u, t in zip(part["users"], part["top"], strict=True)}
        with open(out, "w") as fh:
            json.dump({"whole": whole, "sharded": parts, "expected": expected.tolist(),
                       "whole_among": whole_among, "sharded_among": parts_among,
                       "found": [top[u] for u in every.tolist()],
                       "index_items": sharded_index.num_items}, fh)
    leave(world)


def _own(data: EvalData, rank: int, world: int) -> EvalData:
    """``data`` with the seen items of the users ``u % world == rank`` only."""
    seen = data.exclude
    users = np.repeat(np.arange(len(seen.indptr) - 1), seen.counts())
    keep = users % world == rank
    return EvalData(data.relevant, UserItems.from_pairs(users[keep], seen.indices[keep],
                                                        len(seen.indptr) - 1))


if __name__ == "__main__":
    r, w, p, *rest = sys.argv[1:]
    main(int(r), int(w), int(p), *rest)
