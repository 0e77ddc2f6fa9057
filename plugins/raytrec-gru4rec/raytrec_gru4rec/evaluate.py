"""Next-item evaluation of a GRU over held-out sessions (GRU4Rec's protocol).

Sessions run side by side as in training, each once, in order: the hidden state is reset at
every session's first event, and each event but the last predicts the one after it. The
target is ranked among every item of the training catalogue (``raytrec_gru4rec.ranks``),
the catalogue's scores computed in chunks so that millions of items fit in memory.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TypeAlias

import numpy as np
import torch

from raytrec.api import ItemModel
from raytrec_gru4rec.gru import GRU4RecNetwork
from raytrec_gru4rec.mapper import SessionMapper
from raytrec_gru4rec.ranks import RankMetrics
from raytrec_gru4rec.sessions import Sessions

# What evaluation steps: the network itself or the mapper around it.
SessionModel: TypeAlias = GRU4RecNetwork | SessionMapper


def evaluation_steps(sessions: Sessions, slots: int) -> Iterator[tuple[np.ndarray, ...]]:
    """``(rows, inputs, targets, reset)`` per step: the active slots, their input and target
    items, and which of them start a session. Every transition comes once; a slot whose
    sessions ran out drops out."""
    offsets, items = sessions.offsets, sessions.items
    pending = iter(range(len(sessions)))
    session = np.full(slots, -1, dtype=np.int64)
    position = np.zeros(slots, dtype=np.int64)
    reset = np.ones(slots, dtype=bool)
    for slot in range(slots):
        s = next(pending, None)
        if s is not None:
            session[slot], position[slot] = s, offsets[s]
    while (session >= 0).any():
        rows = np.flatnonzero(session >= 0)
        at = position[rows]
        yield rows, items[at], items[at + 1], reset[rows].copy()
        position[rows] += 1
        reset[:] = False
        for slot in rows[position[rows] + 1 >= offsets[session[rows] + 1]]:
            s = next(pending, None)
            session[slot] = -1 if s is None else s
            if s is not None:
                position[slot], reset[slot] = offsets[s], True


def chunked_ranks(queries: torch.Tensor, vectors: torch.Tensor, targets: torch.Tensor,
                  conservative: bool = False, chunk: int = 65536) -> torch.Tensor:
    """Ranks of ``targets (B,)`` among all ``vectors (I, D)`` scored by ``queries (B, D)``,
    without holding the ``(B, I)`` score matrix."""
    target = (queries * vectors[targets]).sum(1, keepdim=True)
    higher = torch.zeros(len(queries), dtype=torch.int64, device=queries.device)
    for s in range(0, len(vectors), chunk):
        scores = queries @ vectors[s:s + chunk].T
        beats = scores >= target if conservative else scores > target
        # The target itself is not compared with its own score (two products of it may
        # round apart): it is the "+ 1".
        own = (targets >= s) & (targets < s + len(scores.T))
        beats[own, (targets[own] - s)] = False
        higher += beats.sum(1)
    return higher + 1


@torch.no_grad()
def session_metrics(model: SessionModel, sessions: Sessions, ks: list[int], slots: int = 512,
                    conservative: bool = False) -> RankMetrics:
    """Recall@k and MRR@k sums over every next event of ``sessions``."""
    was_training = model.training
    model.eval()
    # Each worker scores its own sessions, as many as it has: sharded tables are read whole.
    whole = model.whole_tables() if isinstance(model, ItemModel) else contextlib.nullcontext()
    with whole:
        metrics = _session_metrics(model, sessions, ks, slots, conservative)
    model.train(was_training)
    return metrics


def _session_metrics(model: SessionModel, sessions: Sessions, ks: list[int], slots: int,
                     conservative: bool) -> RankMetrics:
    device = next(model.parameters()).device
    vectors = model.items(torch.arange(model.num_items, device=device))
    hidden = model.initial_hidden(slots, device)
    metrics = RankMetrics(ks)
    for rows, inputs, targets, reset in evaluation_steps(sessions, slots):
        index = torch.from_numpy(rows).to(device)
        state = [h[index] for h in hidden]
        query, state = model.step(torch.from_numpy(inputs).to(device), state,
                                  torch.from_numpy(reset).to(device))
        for h, new in zip(hidden, state, strict=True):
            h[index] = new
        metrics.add(chunked_ranks(query, vectors, torch.from_numpy(targets).to(device),
                                  conservative))
    return metrics


def evaluate_sessions(model: SessionModel, sessions: Sessions, ks: list[int], slots: int = 512,
                      conservative: bool = False) -> dict[str, float]:
    """Recall@k and MRR@k of every next event of ``sessions``."""
    return session_metrics(model, sessions, ks, slots, conservative).means()
