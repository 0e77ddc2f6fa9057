"""The end of every training step of every task: backpropagate, combine the loss's own
gradients over workers, step the optimiser, constrain (``apply_step``); and one whole step of
the user-item task (``train_step``), as the loop runs it."""

from __future__ import annotations

import functools
import inspect

import torch
import torch.distributed as dist
from torch import nn

from raytrec.losses import Loss, LossOutput
from raytrec.mappers import ItemModel, Mapper
from raytrec.samplers import Sampler
from raytrec.tasks.user_item.step import loss_of_batch
from raytrec.train.optim import RunOptimizer


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
