"""Next-item evaluation: each transition once, the hidden state reset between sessions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from raytrec_gru4rec.evaluate import chunked_ranks, evaluate_sessions, evaluation_steps
from raytrec_gru4rec.gru import GRU4RecNetwork
from raytrec_gru4rec.ranks import target_ranks
from raytrec_gru4rec.sessions import Sessions


def sessions(lengths: list[int], num_items: int = 1000) -> Sessions:
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    items = np.arange(offsets[-1], dtype=np.int64) % num_items
    return Sessions(offsets, items, np.arange(offsets[-1], dtype=float))


def test_every_transition_is_evaluated_once_with_resets_at_session_starts() -> None:
    data = sessions([2, 7, 3, 2, 5, 4])
    starts = set(data.offsets[:-1].tolist())
    seen = []
    for _, inputs, targets, reset in evaluation_steps(data, 3):
        assert np.array_equal(targets, inputs + 1)
        assert [bool(r) for r in reset] == [int(x) in starts for x in inputs]
        seen += inputs.tolist()
    ends = set((data.offsets[1:] - 1).tolist())
    assert sorted(seen) == [x for x in range(23) if x not in ends]


def test_chunked_ranks_are_the_full_matrix_ranks() -> None:
    torch.manual_seed(0)
    q, v = torch.randn(6, 4), torch.randn(50, 4).round()
    t = torch.randint(0, 50, (6,))
    for conservative in (False, True):
        assert torch.equal(chunked_ranks(q, v, t, conservative, chunk=7),
                           target_ranks(q @ v.T, t, conservative))


def test_a_session_is_scored_as_if_alone_whatever_ran_in_its_slot_before() -> None:
    torch.manual_seed(0)
    network = GRU4RecNetwork(20, [8], embedding=4)
    data = Sessions(np.array([0, 4, 7, 10]), np.array([1, 2, 3, 4, 5, 6, 7, 5, 6, 7]),
                    np.arange(10, dtype=float))
    alone = evaluate_sessions(network, data.take(np.array([2])), [5], slots=1)
    after = evaluate_sessions(network, data.take(np.array([0, 2])), [5], slots=1)
    both = evaluate_sessions(network, data.take(np.array([0])), [5], slots=1)
    # session 2 after session 0 in one slot: its metrics are what they are alone
    for key in ("recall@5", "mrr@5"):
        assert after[key] * 5 == pytest.approx(alone[key] * 2 + both[key] * 3)
