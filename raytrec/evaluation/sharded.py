"""Scoring a model whose ID tables are sharded by rows (``train.sharding: rows``): each
worker indexes only the items it holds, every worker's queries are searched in every
worker's index, and each query's per-worker lists merge into its top k.

Each worker indexes the items ``i`` with ``i % W == rank`` (the rows of the ID tables it
holds, so computing their vectors asks the others for nothing), so its index holds 1/W of the
catalogue. Queries are made by the workers that hold the users' rows, in rounds of
``eval.chunk_size`` users per worker; a round's queries go to every worker, each searches them
in its index for its top k unseen items (``Retriever.search_excluding_scored``, in catalogue
ids), and sends each list back to the query's worker, which keeps the k best of the W lists.
A worker knows only its own users' seen items (``Task.worker_info``): each query's seen items
travel with it, each to the worker whose index holds that item, and only there.
For an exact index that is the top k of one index over the whole catalogue; an approximate
index searches each share as it would the whole.
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import torch
import torch.distributed as dist

from raytrec.config.sections import EvalSection
from raytrec.data.store import UserItems
from raytrec.evaluation.data import EvalData
from raytrec.evaluation.distributed import all_reduce_sums
from raytrec.evaluation.evaluate import MetricSums
from raytrec.evaluation.metrics import metric_names, per_user
from raytrec.mappers import Mapper
from raytrec.retrievers import Retriever
from raytrec.shards import transport

# The catalogue ids of what each retriever indexes (this worker's items), from its last build;
# and, for an index among some items only, the catalogue item of each id (ids are their rank
# among them), which says the worker that holds it.
_INDEXED: weakref.WeakKeyDictionary[Retriever, np.ndarray] = weakref.WeakKeyDictionary()
_AMONG: weakref.WeakKeyDictionary[Retriever, np.ndarray | None] = weakref.WeakKeyDictionary()


@torch.no_grad()
def evaluate_sharded(
    mapper: Mapper, retriever: Retriever, data: EvalData, eval_cfg: EvalSection,
    rank: int, world: int, device: torch.device, users: np.ndarray | None = None,
    build: bool = True, items: np.ndarray | None = None, ks: list[int] | None = None,
) -> dict[str, float]:
    """``evaluation.distributed.evaluate_split`` for a sharded mapper (a collective)."""
    mapper.eval()
    chunk = eval_cfg.chunk_size
    if build or items is not None or retriever not in _INDEXED:
        retriever.release()  # the last index goes before the vectors of the next are made
        mine = np.arange(rank, mapper.num_items, world)
        if items is not None:
            mine = mine[items[mine]]
        # Filled in place: at a worker's share of a large catalogue, a second copy of its
        # item vectors would be what runs it out of memory.
        vectors = np.empty((len(mine), mapper.dim), dtype=np.float32)
        at = 0
        for batch in _rounds(mine, chunk, device):
            found = mapper.items(torch.from_numpy(batch).to(device)).float().cpu().numpy()
            vectors[at:at + len(found)] = found
            at += len(found)
            _forget(mapper)
        retriever.build(vectors, mapper.distance)
        del vectors  # the index holds what it needs of them
        # Among ``items`` only, ids are renumbered to their rank among them (``data`` is
        # ``EvalData.among(items)``), as one index over just those items numbers them.
        _INDEXED[retriever] = mine if items is None else (np.cumsum(items) - 1)[mine]
        _AMONG[retriever] = None if items is None else np.flatnonzero(items)
    mine, among = _INDEXED[retriever], _AMONG[retriever]
    users = data.relevant.users() if users is None else users
    cuts = sorted(set(eval_cfg.ks if ks is None else ks))
    total = MetricSums(dict.fromkeys(metric_names(cuts), 0.0))
    for batch in _rounds(users[users % world == rank], chunk, device):
        q = mapper.queries(torch.from_numpy(batch).to(device)).float().cpu().numpy()
        _forget(mapper)
        top = _search(retriever, q, batch, data, max(cuts), mine, among)
        scores = per_user(top, batch, data.relevant, cuts, mapper.num_items)
        total = total.add(MetricSums({n: float(v.sum()) for n, v in scores.items()}, len(batch)))
    mapper.train()
    return all_reduce_sums(total, device).means()


def _rounds(ids: np.ndarray, chunk: int, device: torch.device) -> list[np.ndarray]:
    """``ids`` in chunks, as many (some empty) on every worker: what they compute in each
    round is a collective."""
    mine = torch.tensor([math.ceil(len(ids) / chunk)], device=device)
    dist.all_reduce(mine, op=dist.ReduceOp.MAX)
    return [ids[i * chunk:(i + 1) * chunk] for i in range(int(mine))]


def _forget(mapper: Mapper) -> None:
    for shard in mapper.shards.values():
        shard.new_step()  # rows fetched for scoring are not kept


def _search(retriever: Retriever, q: np.ndarray, users: np.ndarray, data: EvalData, k: int,
            mine: np.ndarray, among: np.ndarray | None) -> np.ndarray:
    """The top ``k`` unseen items ``(b, k)`` of this worker's queries ``q`` over every
    worker's index (``among``: the catalogue item of each id, when the ids are ranks among
    some items)."""
    world, rank = dist.get_world_size(), dist.get_rank()
    sizes = torch.zeros(world, dtype=torch.int64)
    sizes[rank] = len(users)
    dist.all_reduce(sizes)
    width = max(int(sizes.max()), 1)
    padded_q = torch.zeros(width, q.shape[1])
    padded_q[: len(q)] = torch.from_numpy(q)
    all_q = [torch.empty_like(padded_q) for _ in range(world)]
    dist.all_gather(all_q, padded_q)
    counts = sizes.tolist()
    queries = torch.cat([p[:n] for p, n in zip(all_q, counts, strict=True)]).numpy()
    asked = sum(counts)
    seen = _seen_here(users, data.exclude, among, world, np.r_[0, np.cumsum(counts)], asked)
    scores, ids = retriever.search_excluding_scored(queries, k, np.arange(asked), seen,
                                                    ids_of=mine)
    got_scores, got_ids = transport.all_to_all(
        [list(torch.from_numpy(scores).split(counts)), list(torch.from_numpy(ids).split(counts))],
        [[len(users)] * world] * 2)
    every_score = torch.cat(got_scores, dim=1)  # (b, W·k): each worker's k best, side by side
    every_id = torch.cat(got_ids, dim=1)
    order = torch.argsort(-every_score, dim=1, stable=True)[:, :k]
    return torch.gather(every_id, 1, order).numpy()


def _seen_here(users: np.ndarray, exclude: UserItems, among: np.ndarray | None, world: int,
               offsets: np.ndarray, asked: int) -> UserItems:
    """The seen items of this round's queries (every worker's, in rank order: ``offsets``)
    that this worker's index holds: each worker sends those of its own users' to the
    worker that holds each item (item ``i`` on worker ``i % world``)."""
    counts = exclude.counts()[users]
    place = np.repeat(np.arange(len(users)), counts)
    first = np.repeat(exclude.indptr[users] - (np.cumsum(counts) - counts), counts)
    items = exclude.indices[first + np.arange(len(place))]
    owner = (items if among is None else among[items]) % world
    pairs = torch.from_numpy(np.stack([place, items], axis=1).astype(np.int64))
    received, _ = transport.exchange([[pairs[torch.from_numpy(owner == r)]
                                       for r in range(world)]])
    got = [(offsets[r] + part[:, 0].numpy(), part[:, 1].numpy())
           for r, part in enumerate(received[0])]
    return UserItems.from_pairs(np.concatenate([g[0] for g in got]),
                                np.concatenate([g[1] for g in got]), asked)
