"""Scoring on every rank: each rank scores its slice of users through one shared index
(``raytrec.evaluation.shared_index``), the metric sums are combined over ranks; a model
whose ID tables are sharded is scored through an index per worker
(``raytrec.evaluation.sharded``)."""

from __future__ import annotations

import numpy as np
import torch
import torch.distributed as dist

from raytrec.config.sections import EvalSection
from raytrec.evaluation import MetricSums, evaluate
from raytrec.evaluation.data import EvalData
from raytrec.evaluation.shared_index import build_index
from raytrec.mappers import Mapper
from raytrec.retrievers import Retriever


@torch.no_grad()
def evaluate_split(
    mapper: Mapper, retriever: Retriever, data: EvalData, eval_cfg: EvalSection,
    rank: int, world_size: int, device: torch.device, users: np.ndarray | None = None,
    build: bool = True, items: np.ndarray | None = None, ks: list[int] | None = None,
) -> dict[str, float]:
    """Metrics over ``users`` (default: every user with held-out items), each user scored by
    exactly one rank: user ``u`` by rank ``u % world_size``, the rank that trains on its rows
    and holds its training items (``Task.worker_info``). ``build``: index the mapper's item
    vectors first (once for all ranks, ``build_index``); ``False`` searches the index built
    by the last call, for the same model. ``items``: a ``(num_items,)`` bool mask to rank
    among those items only (``data`` as ``EvalData.among(items)`` gives it; implies
    ``build``). ``ks``: these cut-offs instead of ``eval_cfg.ks``."""
    if mapper.shards:
        from raytrec.evaluation.sharded import evaluate_sharded

        return evaluate_sharded(mapper, retriever, data, eval_cfg, rank, world_size, device,
                                users, build, items, ks)
    mapper.eval()
    if build or items is not None:
        retriever.release()  # the last index goes before the vectors of the next are made
        vectors = mapper.all_items().detach().float().cpu().numpy()
        build_index(retriever, vectors if items is None else vectors[items], mapper.distance)
    users = data.relevant.users() if users is None else users
    users = users[users % world_size == rank]

    def queries(batch: np.ndarray) -> np.ndarray:
        ids = torch.from_numpy(batch).to(device)
        return mapper.queries(ids).detach().float().cpu().numpy()

    sums = evaluate(queries, retriever, users, data.relevant, data.exclude,
                    list(eval_cfg.ks if ks is None else ks), eval_cfg.chunk_size)
    mapper.train()
    return all_reduce_sums(sums, device).means()


def cold_and_warm(data: EvalData, train_counts: np.ndarray,
                  users: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Test users (``users``, default every one) split by whether they have training
    interactions (``train_counts``: rows per user); empty if none are cold."""
    users = data.relevant.users() if users is None else users
    has_train = train_counts[users] > 0
    if has_train.all():
        return {}
    return {"cold": users[~has_train], "warm": users[has_train]}


def on_any_rank(flag: bool, device: torch.device) -> bool:
    """Whether ``flag`` holds on some rank: what decides whether every rank makes the next
    collective, when each rank holds its own users' data. ``flag`` itself outside a group."""
    if not (dist.is_available() and dist.is_initialized()):
        return flag
    found = torch.tensor([int(flag)], device=device)
    dist.all_reduce(found, op=dist.ReduceOp.MAX)
    return bool(found.item())


def all_reduce_sums(sums: MetricSums, device: torch.device) -> MetricSums:
    """Sum metric sums and user counts over ranks (never average per-rank means)."""
    if not (dist.is_available() and dist.is_initialized()):
        return sums
    keys = sorted(sums.sums)
    t = torch.tensor([sums.sums[k] for k in keys] + [sums.users], dtype=torch.float64,
                     device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    values = t.cpu().tolist()
    return MetricSums(dict(zip(keys, values[:-1], strict=False)), int(values[-1]))
