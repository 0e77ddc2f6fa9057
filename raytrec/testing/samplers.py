"""``check_sampler``: shapes, id range, log q, masks, the generator, pickling, devices."""

from __future__ import annotations

from typing import Any

import torch

from raytrec.samplers.base import Negatives, Sampler
from raytrec.samplers.contract import check_negatives
from raytrec.testing.common import ConformanceError, build, check_pickles, fail_unless, tiny_info
from raytrec.testing.devices import check_moves


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
    fail_unless(copy.to(torch.device("cpu")) is copy
                and torch.equal(_draw(copy, users, items, seed=0).ids, neg.ids), sampler,
                "to(device) must move the sampler in place and return it; on its own device "
                "it must draw the same negatives")
    check_moves(sampler, "keep tensors as attributes (or nested samplers) that Sampler.to "
                "moves, or override to(device); never move state inside sample",
                skip=(torch.nn.Module,))


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


