"""The loss of one user-item batch: negatives drawn, candidates scored and selected, the
positives and the chosen negatives mapped through ``model``, scored in the mapper's distance,
the loss and the mapper's penalty."""

from __future__ import annotations

import torch
from torch import nn

from raytrec.losses import Loss, LossInput, LossOutput
from raytrec.mappers import Mapper, MapperOutput
from raytrec.samplers import Sampler
from raytrec.shards.table import serving


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
    selecting = type(loss).select is not Loss.select and mapper.deterministic_scores()
    fetched = []
    if mapper.shards:  # the rows the step reads, in one exchange; candidates are scored
        # where they live when the loss selects among them, so only the chosen are fetched
        fetched = mapper.prefetch(
            users, items if selecting else torch.cat([items, neg_ids.reshape(-1)]))
    with serving(fetched):  # the lookups read what was fetched, exchanging nothing
        if selecting:
            with torch.no_grad():
                q = mapper.queries(users)
                if neg.pool is not None:
                    cand = mapper.score_candidates(q, neg.pool).gather(1, neg.pool_index)
                else:
                    cand = mapper.score_candidates(q, neg_ids)
                pos = mapper.distance.pair_scores(q, mapper.items(items))
                selection = loss.select(pos, cand, mask)
            if selection is not None:
                neg_ids, log_q = neg.per_row(len(users))
                neg_ids = torch.gather(neg_ids, 1, selection.index)
                log_q = torch.gather(log_q, 1, selection.index)
                mask = None if mask is None else torch.gather(mask, 1, selection.index)
            if fetched:
                mapper.prefetch(users, neg_ids)
        out: MapperOutput = model(users, items, neg_ids)
    if log_q.dim() == 1:
        log_q = log_q.expand(len(users), -1)
    batch = LossInput(
        mapper.distance.pair_scores(out.query, out.item),
        mapper.distance.candidate_scores(out.query, out.negatives),
        log_q, out.query, out.item, mask=mask, rating=ratings, pos_log_q=neg.pos_log_q,
        candidate_scores=neg.candidate_scores, item_features=out.item_features,
        selection=selection,
    )
    return loss(batch).with_penalty(mapper.penalty())
