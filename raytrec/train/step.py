"""One optimisation step: sample, score, select, backpropagate, constrain."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from raytrec.losses import Loss, LossInput, LossOutput
from raytrec.mappers import Mapper
from raytrec.metric import candidate_scores, pair_scores
from raytrec.samplers import Sampler


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
    neg_ids, log_q, mask, extras = neg.ids, neg.log_q, neg.mask, dict(neg.extras)
    if type(loss).select is not Loss.select and mapper.deterministic_scores():
        with torch.no_grad():
            q = mapper.queries(users)
            if neg.pool is not None:
                cand = mapper.score_candidates(q, neg.pool).gather(1, neg.pool_index)
            else:
                cand = mapper.score_candidates(q, neg_ids)
            sel = loss.select(pair_scores(mapper.metric, q, mapper.items(items)), cand, mask)
        if sel is not None:
            if neg.shared:
                neg_ids, log_q = neg_ids.expand(len(users), -1), log_q.expand(len(users), -1)
            neg_ids = torch.gather(neg_ids, 1, sel.index)
            log_q = torch.gather(log_q, 1, sel.index)
            mask = None if mask is None else torch.gather(mask, 1, sel.index)
            extras = {**sel.extras, **neg.extras}
    q, p, n, produced = model(users, items, neg_ids)
    extras = {**produced, **extras}
    pos_s = pair_scores(mapper.metric, q, p)
    neg_s = candidate_scores(mapper.metric, q, n)
    if log_q.dim() == 1:
        log_q = log_q.expand(len(users), -1)
    out = loss(LossInput(pos_s, neg_s, log_q, q, p, extras, mask, ratings))
    penalty = mapper.penalty()
    if penalty is not None:
        out.loss = out.loss + penalty
        out.parts["mapper_penalty"] = penalty.detach()
    return out


def _sync_loss_grads(loss: Loss) -> None:
    """Average the gradients of a loss's own parameters over workers (DDP covers the mapper)."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    for p in loss.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= dist.get_world_size()


def train_step(
    model: nn.Module, mapper: Mapper, sampler: Sampler, loss: Loss,
    optimizer: torch.optim.Optimizer, users: torch.Tensor, items: torch.Tensor,
    generator: torch.Generator, ratings: torch.Tensor | None = None,
) -> LossOutput:
    # Zeroing in place reuses the gradient buffers: a fresh table-sized allocation per step
    # costs page faults on every batch.
    optimizer.zero_grad(set_to_none=False)
    out = loss_of_batch(model, mapper, sampler, loss, users, items, generator, ratings)
    out.loss.backward()
    _sync_loss_grads(loss)
    optimizer.step()
    mapper.constrain()
    return out
