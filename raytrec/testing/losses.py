"""``check_loss``: shapes, masks, gradients, ``select``, pickling, devices."""

from __future__ import annotations

from typing import Any

import torch

from raytrec.losses.base import Loss, LossInput
from raytrec.testing.common import build, check_pickles, fail_unless, tiny_info
from raytrec.testing.devices import check_moves


def _batch(b: int, n: int, mask: torch.Tensor | None = None, dtype=torch.float32,
           seed: int = 0, requires: tuple[str, ...] = ()) -> tuple[LossInput, list[torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    pos = (-torch.rand(b, generator=gen, dtype=dtype) * 2).requires_grad_()
    neg = (-torch.rand(b, n, generator=gen, dtype=dtype) * 2).requires_grad_()
    query = torch.randn(b, 4, generator=gen, dtype=dtype).requires_grad_()
    item = torch.randn(b, 4, generator=gen, dtype=dtype).requires_grad_()
    log_q = torch.full((b, n), -3.0, dtype=dtype)
    features = (torch.randn(b, 4, generator=gen, dtype=dtype)
                if "item_features" in requires else None)
    return (LossInput(pos, neg, log_q, query, item, mask=mask, item_features=features),
            [pos, neg, query, item])


def check_loss(cls: type[Loss], **kwargs: Any) -> None:
    """Check a loss class built with ``kwargs`` (its config arguments)."""
    loss = build(cls, kwargs, "loss")
    fail_unless(isinstance(loss, torch.nn.Module) and hasattr(loss, "_modules"), loss,
                "call super().__init__() first in __init__ (it is a torch module)")
    info = tiny_info()
    loss.setup(info)
    unknown = set(loss.requires) - {"item_features"}
    fail_unless(not unknown, loss, f"requires {sorted(unknown)}: a loss can require only "
                "optional MapperOutput fields (item_features)")
    batch, leaves = _batch(6, 5, requires=loss.requires)
    out = loss(batch)
    fail_unless(out.loss.dim() == 0 and bool(torch.isfinite(out.loss)), loss,
                "compute must return a finite scalar loss")
    fail_unless(all(v.dim() == 0 for v in out.parts.values()), loss,
                "every entry of parts must be a scalar")
    fail_unless(all(not v.requires_grad for v in out.parts.values()), loss,
                "parts are for logging: detach them")
    out.loss.backward()
    fail_unless(leaves[0].grad is not None, loss, "the loss must depend on the positive scores")
    if loss.uses_negatives:
        fail_unless(leaves[1].grad is not None, loss,
                    "the loss must depend on the negative scores (or set uses_negatives=False)")
        _check_mask(loss)
        _check_select(loss)
    _check_gradients(loss)
    _check_pickled(loss)
    check_moves(loss, "keep tensors as parameters or buffers (register_buffer); never move "
                "state inside compute")
    return None


def _check_mask(loss: Loss) -> None:
    """A masked negative (False) must change neither the value nor any gradient."""
    mask = torch.ones(6, 5, dtype=torch.bool)
    mask[:, -1] = False
    mask[0, 1] = False
    masked, leaves = _batch(6, 5, mask, requires=loss.requires)
    with torch.no_grad():  # make the masked entries the hardest: ignoring them shows at once
        leaves[1][~mask] = 5.0
    out = loss(masked)
    out.loss.backward()
    grad = leaves[1].grad
    fail_unless(grad is None or bool((grad[~mask] == 0).all()), loss,
                "negatives masked out (mask False: e.g. a row's own positive under in-batch "
                "sampling) must get no gradient; use batch.neg_mean / batch.masked_scores")
    kept = LossInput(masked.pos.detach(), masked.neg.detach()[:, :4], masked.log_q[:, :4],
                     masked.query.detach(), masked.item.detach(), mask=mask[:, :4],
                     item_features=masked.item_features)
    again = loss(kept).loss
    fail_unless(bool(torch.isclose(out.loss.detach(), again.detach(), rtol=1e-5, atol=1e-6)),
                loss, "masked negatives must not change the loss value")


def _check_select(loss: Loss) -> None:
    """``select`` keeps candidates whose loss equals the loss over all of them (the trainer
    then backpropagates through the kept ones only)."""
    if type(loss).select is Loss.select:
        return
    batch, _ = _batch(6, 5, requires=loss.requires)
    with torch.no_grad():
        selection = loss.select(batch.pos.detach(), batch.neg.detach())
    if selection is None:
        return
    index = selection.index
    fail_unless(index.dtype == torch.int64 and index.dim() == 2 and index.shape[0] == 6
                and int(index.min()) >= 0 and int(index.max()) < 5, loss,
                "select must return int64 indices (B, K) into the candidate axis")
    full = loss(batch).loss
    kept = LossInput(batch.pos, batch.neg.gather(1, index), batch.log_q.gather(1, index),
                     batch.query, batch.item, item_features=batch.item_features,
                     selection=selection)
    fail_unless(bool(torch.isclose(full, loss(kept).loss, rtol=1e-5, atol=1e-6)), loss,
                "the loss over the selected candidates (given select's Selection as "
                "batch.selection) must equal the loss over all of them")


def _check_gradients(loss: Loss) -> None:
    """Analytic gradients against finite differences, in float64."""
    batch, leaves = _batch(3, 4, dtype=torch.float64, seed=2, requires=loss.requires)
    double = loss.to(torch.float64)

    def value(*tensors: torch.Tensor) -> torch.Tensor:
        pos, neg, query, item = tensors
        return double(LossInput(pos, neg, batch.log_q, query, item,
                                item_features=batch.item_features)).loss

    try:
        ok = torch.autograd.gradcheck(value, tuple(leaves), eps=1e-6, atol=1e-4)
    except RuntimeError as exc:
        ok = False
        why = str(exc).splitlines()[0]
    else:
        why = ""
    loss.to(torch.float32)
    fail_unless(ok, loss, f"gradients disagree with finite differences {why}".strip())


def _check_pickled(loss: Loss) -> None:
    copy = check_pickles(loss)
    fail_unless(type(copy) is type(loss), loss, "unpickles to another type")
