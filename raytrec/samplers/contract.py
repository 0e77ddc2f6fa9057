"""The shape contract of what ``Sampler.sample`` returns, checked on every run's sampler
before training (``raytrec.tasks.user_item.check``) and by ``raytrec.testing.check_sampler``."""

from __future__ import annotations

import torch

from raytrec.errors import fail_unless
from raytrec.samplers.base import Negatives, Sampler


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
