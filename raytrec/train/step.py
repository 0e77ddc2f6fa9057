"""One optimisation step: sample, score, select, backpropagate, constrain."""

from __future__ import annotations

import functools
import inspect

import torch
import torch.distributed as dist
from torch import nn

from raytrec.distance import candidate_scores, pair_scores
from raytrec.losses import Loss, LossInput, LossOutput
from raytrec.mappers import ItemModel, Mapper, MapperOutput
from raytrec.samplers import Sampler
from raytrec.train.optim import RunOptimizer


def loss_of_batch(
    model: nn.Module, mapper: Mapper, sampler: Sampler, loss: Loss,
    users: torch.Tensor, items: torch.Tensor, generator: torch.Generator,
    ratings: torch.Tensor | None = None,
) -> LossOutput:
    """Loss of positives ``users, items (B,)`` (and their ``ratings``, for losses that use
    them); ``model`` is ``mapper`` or its DDP wrapper.

    When the loss selects among the candidates (``Loss.select``) and the mapper's scores are
    deterministic (``Mapper.deterministic_scores``), every candidate is scored without
    gradient and only the selected ones go through ``model`` — for CML that is one negative
    per positive instead of U, with the same gradient.
    """
    neg = sampler.sample(users, items, generator)
    if not neg.shared and neg.ids.shape[0] != len(users):
        raise ValueError(f"{type(sampler).__name__}.sample returned per-positive ids "
                         f"{tuple(neg.ids.shape)} for B={len(users)} positives; want (B, N)")
    neg_ids, log_q, mask, selection = neg.ids, neg.log_q, neg.mask, None
    if type(loss).select is not Loss.select and mapper.deterministic_scores():
        with torch.no_grad():
            q = mapper.queries(users)
            if neg.pool is not None:
                cand = mapper.score_candidates(q, neg.pool).gather(1, neg.pool_index)
            else:
                cand = mapper.score_candidates(q, neg_ids)
            pos = pair_scores(mapper.distance, q, mapper.items(items))
            selection = loss.select(pos, cand, mask)
        if selection is not None:
            neg_ids, log_q = neg.per_row(len(users))
            neg_ids = torch.gather(neg_ids, 1, selection.index)
            log_q = torch.gather(log_q, 1, selection.index)
            mask = None if mask is None else torch.gather(mask, 1, selection.index)
    out: MapperOutput = model(users, items, neg_ids)
    if log_q.dim() == 1:
        log_q = log_q.expand(len(users), -1)
    batch = LossInput(
        pair_scores(mapper.distance, out.query, out.item),
        candidate_scores(mapper.distance, out.query, out.negatives),
        log_q, out.query, out.item, mask=mask, rating=ratings, pos_log_q=neg.pos_log_q,
        candidate_scores=neg.candidate_scores, item_features=out.item_features,
        selection=selection,
    )
    result = loss(batch)
    penalty = mapper.penalty()
    if penalty is not None:
        result.loss = result.loss + penalty
        result.parts["mapper_penalty"] = penalty.detach()
    return result


def _sync_loss_grads(loss: Loss) -> None:
    """Average the gradients of a loss's own parameters over workers (DDP covers the mapper)."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    for p in loss.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= dist.get_world_size()


def apply_step(mapper: ItemModel, loss: Loss, optimizer: RunOptimizer,
               out: LossOutput) -> None:
    """Backpropagate ``out.loss``, step the optimiser, constrain: the end of every step of
    every task (the gradients were zeroed before the loss was computed)."""
    out.loss.backward()
    _sync_loss_grads(loss)
    touched = optimizer.step()
    if touched is not None and _constrains_rows(type(mapper)):
        mapper.constrain(touched)
    else:
        mapper.constrain()


def train_step(
    model: nn.Module, mapper: Mapper, sampler: Sampler, loss: Loss, optimizer: RunOptimizer,
    users: torch.Tensor, items: torch.Tensor, generator: torch.Generator,
    ratings: torch.Tensor | None = None,
) -> LossOutput:
    """One step of the user-item task on positives ``users, items``."""
    optimizer.zero_grad()
    out = loss_of_batch(model, mapper, sampler, loss, users, items, generator, ratings)
    apply_step(mapper, loss, optimizer, out)
    return out


@functools.cache
def _constrains_rows(cls: type[ItemModel]) -> bool:
    """Whether ``cls.constrain`` takes the touched rows (one written before they existed
    does not, and is given none: it projects whole tables)."""
    return "touched" in inspect.signature(cls.constrain).parameters
