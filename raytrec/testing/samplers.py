"""``check_sampler``: shapes, id range, log q, masks, the generator, pickling."""

from __future__ import annotations

from typing import Any

import torch

from raytrec.samplers.base import Negatives, Sampler
from raytrec.testing.common import ConformanceError, build, check_pickles, fail_unless, tiny_info


def check_sampler(cls: type[Sampler], **kwargs: Any) -> None:
    """Check a sampler class built with ``kwargs`` (its config arguments)."""
    sampler = build(cls, kwargs, "sampler")
    info = tiny_info()
    sampler.setup(info)
    from raytrec.mappers.embedding import EmbeddingMapper

    mapper = EmbeddingMapper(dim=4)
    mapper.setup(info)
    sampler.attach(mapper)
    users = torch.arange(64) % info.num_users
    items = torch.from_numpy(info.positives.indices[:64].copy())
    neg = _draw(sampler, users, items, seed=0)
    check_negatives(sampler, neg, len(users), info.num_items)
    again = _draw(sampler, users, items, seed=0, global_seed=123)
    fail_unless(torch.equal(neg.ids, again.ids), sampler,
                "draw only from the generator passed to sample (the same generator state "
                "must give the same negatives, whatever the global torch seed): a resumed run "
                "must draw what an uninterrupted one did")
    other = _draw(sampler, users, items, seed=1)
    fail_unless(not torch.equal(neg.ids, other.ids) or neg.ids.numel() == 0
                or torch.equal(neg.ids, items), sampler,
                "another generator seed should give other negatives")
    copy = check_pickles(sampler)
    fail_unless(torch.equal(_draw(copy, users, items, seed=0).ids, neg.ids), sampler,
                "an unpickled copy must draw the same negatives")


def _draw(sampler: Sampler, users: torch.Tensor, items: torch.Tensor, seed: int,
          global_seed: int = 0) -> Negatives:
    torch.manual_seed(global_seed)
    try:
        neg = sampler.sample(users, items, torch.Generator().manual_seed(seed))
    except (TypeError, ValueError) as exc:  # e.g. Negatives refusing a shape
        raise ConformanceError(f"{type(sampler).__name__}: sample raised "
                               f"{type(exc).__name__}: {exc}") from exc
    fail_unless(isinstance(neg, Negatives), sampler,
                f"sample must return raytrec.samplers.Negatives, got {type(neg).__name__}")
    return neg


def check_negatives(sampler: Sampler, neg: Negatives, b: int, num_items: int) -> None:
    """The shape contract of what ``sampler.sample`` returned for ``b`` positives."""
    ids = neg.ids
    fail_unless(ids.dtype == torch.int64, sampler, f"ids must be int64, got {ids.dtype}")
    if not neg.shared:
        fail_unless(ids.shape[0] == b, sampler,
                    f"per-positive ids must be (B={b}, N), got {tuple(ids.shape)}")
    elif sampler.num_negatives:
        fail_unless(ids.shape[0] in (sampler.num_negatives, b, b + sampler.num_negatives),
                    sampler, f"shared=True ids (N,) of length {ids.shape[0]}: with "
                    f"num_negatives={sampler.num_negatives} and B={b}, they look like flat "
                    "per-positive ones; return those as (B, N) with shared=False")
    fail_unless(int(ids.min()) >= 0 and int(ids.max()) < num_items, sampler,
                f"ids must lie in [0, {num_items}), got {int(ids.min())}..{int(ids.max())}")
    fail_unless(neg.log_q.shape == ids.shape and neg.log_q.is_floating_point(), sampler,
                f"log_q must be float of the ids' shape {tuple(ids.shape)}, got "
                f"{tuple(neg.log_q.shape)}")
    fail_unless(bool((neg.log_q <= 1e-6).all()) and bool(torch.isfinite(neg.log_q).all()),
                sampler, "log_q are finite log-probabilities (<= 0)")
    if neg.mask is not None:
        fail_unless(neg.mask.dtype == torch.bool and neg.mask.shape == (b, ids.shape[-1]),
                    sampler, f"mask must be bool (B={b}, N={ids.shape[-1]}), True = valid")
    if neg.pos_log_q is not None:
        fail_unless(neg.pos_log_q.shape == (b,), sampler, f"pos_log_q must be (B={b},)")
    if neg.candidate_scores is not None:
        fail_unless(neg.candidate_scores.dim() == 2 and neg.candidate_scores.shape[0] == b
                    and neg.candidate_scores.shape[1] >= ids.shape[-1], sampler,
                    f"candidate_scores must be (B={b}, U) with U >= N={ids.shape[-1]}")
    if neg.pool is not None:
        fail_unless(neg.pool_index is not None
                    and torch.equal(neg.pool[neg.pool_index], ids), sampler,
                    "with a pool, ids must equal pool[pool_index]")
