"""Every component run once on a tiny batch of the real data before a run directory exists,
so that a broken contract (ids out of range, a Tensor for ``Negatives``, a loss that raises)
is a config error naming the component, not a traceback from the first batch of a worker."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from raytrec.config.run_config import RunConfig
from raytrec.data.base import DataInfo
from raytrec.errors import ConformanceError, Problem, argument_problem
from raytrec.mappers import Mapper
from raytrec.plugins import get_registry
from raytrec.samplers.contract import check_negatives

BATCH = 8


class _Stand(Mapper):
    """Zero vectors of the real mapper's size: lets a sampler that scores candidates run
    without allocating the real tables."""

    def __init__(self, dim: int, distance: str) -> None:
        super().__init__()
        self.dim, self.distance = dim, distance

    def setup(self, info: DataInfo) -> None:
        self.num_users, self.num_items = info.num_users, info.num_items

    def queries(self, users: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(users), self.dim)

    def items(self, ids: torch.Tensor) -> torch.Tensor:
        return torch.zeros(*ids.shape, self.dim)


def smoke_problems(config: RunConfig, sampler: Any, loss: Any, mapper: Mapper,
                   info: DataInfo) -> list[Problem]:
    """Sample, score and retrieve once; each failure a problem keyed by its section."""
    gen = torch.Generator().manual_seed(0)
    users = torch.from_numpy(info.positives.users()[:BATCH]).long()
    items = torch.from_numpy(info.positives.indices[info.positives.indptr[users.numpy()]]).long()
    neg = None
    try:
        stand = _Stand(mapper.dim, mapper.distance)
        stand.setup(info)
        sampler.attach(stand)
        neg = sampler.sample(users, items, gen)
        check_negatives(sampler, neg, len(users), info.num_items)
    except Exception as exc:  # a plugin's bug: reported, not raised
        return [_problem("sampler", config, exc)]
    problems = []
    try:
        _loss_once(loss, neg, len(users), mapper.dim, gen)
    except Exception as exc:
        problems.append(_problem("loss", config, exc))
    try:
        _retrieve_once(config, mapper, info.num_items)
    except Exception as exc:
        problems.append(_problem("retriever", config, exc))
    return problems


def _loss_once(loss: Any, neg: Any, b: int, dim: int, gen: torch.Generator) -> None:
    from raytrec.losses import LossInput

    _, log_q = neg.per_row(b)
    pos = torch.randn(b, generator=gen, requires_grad=True)
    scores = torch.randn(b, neg.num_negatives, generator=gen, requires_grad=True)
    vec = torch.randn(b, dim, generator=gen, requires_grad=True)
    features = torch.randn(b, dim, generator=gen) if "item_features" in loss.requires else None
    rating = torch.ones(b) if loss.uses_ratings else None
    out = loss(LossInput(pos, scores, log_q.float(), vec, vec, mask=neg.mask, rating=rating,
                         pos_log_q=neg.pos_log_q, candidate_scores=neg.candidate_scores,
                         item_features=features))
    if out.loss.dim() != 0 or not bool(torch.isfinite(out.loss)):
        raise ConformanceError(f"{type(loss).__name__}: compute must return a finite scalar")
    out.with_penalty(torch.zeros(())).logged()  # its parts' names leave room for the loop's
    out.loss.backward()


def _retrieve_once(config: RunConfig, mapper: Mapper, num_items: int) -> None:
    retriever = get_registry().build("retriever", config.retriever)
    n = min(num_items, max(64, retriever.min_build_items()))
    vectors = np.random.default_rng(0).normal(size=(n, mapper.dim)).astype(np.float32)
    retriever.build(vectors, mapper.distance)
    k = min(5, n)
    scores, ids = retriever.search(vectors[:3], k)
    if not (np.shape(ids) == np.shape(scores) == (3, k) and np.asarray(ids).dtype.kind == "i"):
        raise ConformanceError(f"{type(retriever).__name__}: search must return (scores, ids), "
                               "both (B, k), ids integers")


def _problem(section: str, config: RunConfig, exc: Exception) -> Problem:
    name = config.spec(section).name
    why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if not isinstance(exc, ConformanceError):
        why = f"{type(exc).__name__}: {why}"
    return Problem(section, f"'{name}' failed on a tiny batch before training: {why}")


def retriever_problems(config: RunConfig, num_items: int, dim: int) -> list[Problem]:
    """The retriever's options against the catalogue, the vector width and the largest K."""
    try:
        retriever = get_registry().build("retriever", config.retriever)
        retriever.check(num_items, dim, max(config.eval.ks))
    except ValueError as exc:
        return [argument_problem("retriever", exc, f" (data: {num_items} items, vectors of "
                                                   f"{dim})")]
    return []
