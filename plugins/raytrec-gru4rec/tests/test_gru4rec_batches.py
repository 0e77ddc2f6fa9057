"""Session-parallel mini-batches: every transition once, in order, the hidden state reset
exactly where a slot starts a session."""

from __future__ import annotations

import numpy as np
import pytest
from raytrec_gru4rec.batches import SessionParallel
from raytrec_gru4rec.sessions import Sessions


def sessions(lengths: list[int]) -> Sessions:
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    items = np.arange(offsets[-1], dtype=np.int64)  # item = event position: easy to follow
    return Sessions(offsets, items, items.astype(float))


def replay(data: Sessions, batch: int, seed: int = 0) -> list[list[tuple[int, int, bool]]]:
    """Each slot's (input, target, reset) steps."""
    slots: list[list[tuple[int, int, bool]]] = [[] for _ in range(batch)]
    for step in SessionParallel(data, batch).epoch(np.random.default_rng(seed)):
        for b in range(batch):
            slots[b].append((int(step.inputs[b]), int(step.targets[b]), bool(step.reset[b])))
    return slots


def test_each_target_is_the_next_event_of_the_same_session() -> None:
    data = sessions([2, 5, 3, 4, 2, 6])
    session_of = np.repeat(np.arange(6), data.lengths)
    for slot in replay(data, 3):
        for x, y, _ in slot:
            assert y == x + 1 and session_of[x] == session_of[y]


def test_the_reset_mask_marks_exactly_each_session_start() -> None:
    data = sessions([2, 5, 3, 4, 2, 6])
    starts = set(data.offsets[:-1].tolist())
    for slot in replay(data, 3):
        for i, (x, _, reset) in enumerate(slot):
            assert reset == (x in starts), (i, x)
            if not reset:  # carried on: the previous step of this slot was the event before
                assert slot[i - 1][0] == x - 1


def test_an_epoch_gives_every_transition_once_when_the_sizes_fit() -> None:
    data = sessions([3, 3, 3, 3])  # 8 transitions, 2 slots: 4 steps
    seen = sorted(x for slot in replay(data, 2) for x, _, _ in slot)
    ends = set((data.offsets[1:] - 1).tolist())
    assert seen == [x for x in range(12) if x not in ends]


def test_every_worker_takes_the_steps_of_the_global_data() -> None:
    small, large = sessions([2, 2]), sessions([9, 9, 9])
    total = small.transitions + large.transitions
    a = SessionParallel(small, 4, total, world_size=2)
    b = SessionParallel(large, 4, total, world_size=2)
    rng = np.random.default_rng(1)
    assert a.steps == b.steps == len(list(a.epoch(rng))) == len(list(b.epoch(rng)))


def test_sessions_too_short_to_train_on_are_refused() -> None:
    with pytest.raises(ValueError, match="no sessions"):
        SessionParallel(sessions([]), 4)
