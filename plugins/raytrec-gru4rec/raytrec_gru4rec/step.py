"""The loss of one session-parallel step, with raytrec's samplers and losses.

The queries are the GRU's outputs after each slot's input item; the positives are the next
items; the negatives come from the run's sampler given the targets as the batch's positives:
with ``mixed`` (GRU4Rec with top-k gains) the other slots' targets plus ``num_negatives``
extra items shared by the batch, drawn ∝ count^alpha, each row's own target masked out of its
negatives. Scores are dot products of queries and output vectors (bias included), so every
loss of raytrec applies as it does to user–item batches. The hidden state goes on detached,
as in the reference: gradients stop at the step (truncated backpropagation of one event).
"""

from __future__ import annotations

import torch
from torch import nn

from raytrec.api import DOT, Loss, LossInput, LossOutput, Sampler
from raytrec_gru4rec.gru import Hidden, SessionOutput


def session_loss(model: nn.Module, sampler: Sampler, loss: Loss, inputs: torch.Tensor,
                 targets: torch.Tensor, reset: torch.Tensor, hidden: Hidden,
                 generator: torch.Generator) -> tuple[LossOutput, Hidden]:
    """The loss of one step of ``B`` slots and the hidden state for the next step; ``model``
    is a session model (``GRU4RecNetwork``, the ``gru4rec`` mapper or its DDP wrapper):
    ``model(inputs, hidden, reset, targets, negative_ids) -> SessionOutput``."""
    slots = torch.arange(len(targets), device=targets.device)
    neg = sampler.sample(slots, targets, generator)
    out: SessionOutput = model(inputs, hidden, reset, targets, neg.ids)
    log_q = neg.log_q if neg.log_q.dim() == 2 else neg.log_q.expand(len(targets), -1)
    batch = LossInput(DOT.pair_scores(out.query, out.target),
                      DOT.candidate_scores(out.query, out.negatives), log_q, out.query,
                      out.target, mask=neg.mask, pos_log_q=neg.pos_log_q)
    return loss(batch), [h.detach() for h in out.hidden]
