"""Session-parallel mini-batches (GRU4Rec, Hidasi et al. 2016, §3.1.1).

B slots run side by side, each through one session at a time: at every step slot b feeds
its session's current item as input, with the next item as target, and moves one event on.
A slot whose session has no next item takes the next session of the stream, and its hidden
state is reset before that session's first input (``reset``). Each session thus gives every
transition once, in order, with the hidden state carried from one event to the next.

For Ray Train every worker runs the same number of steps (DDP needs it), whatever its shard:
the step count follows the global number of transitions, and a shard that runs out starts
its sessions over in a new order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from raytrec_gru4rec.sessions import Sessions


@dataclass
class Step:
    inputs: np.ndarray  # (B,) item index fed to each slot
    targets: np.ndarray  # (B,) the next item of the slot's session
    reset: np.ndarray  # (B,) bool: the slot starts a session here; zero its hidden state first


class SessionParallel:
    """Session-parallel steps over ``sessions`` (this worker's shard).

    ``global_transitions``: the transitions of every worker's shard together; ``batch_size``:
    the global batch, split evenly over ``world_size`` workers.
    """

    def __init__(self, sessions: Sessions, batch_size: int, global_transitions: int | None = None,
                 world_size: int = 1) -> None:
        if len(sessions) == 0:
            raise ValueError("no sessions of two or more events to train on")
        self.sessions = sessions
        self.slots = max(1, batch_size // world_size)
        total = sessions.transitions if global_transitions is None else global_transitions
        self.steps = max(1, math.ceil(total / (self.slots * world_size)))

    def epoch(self, rng: np.random.Generator, shuffle: bool = True) -> Iterator[Step]:
        """One epoch's steps; sessions in a random order when ``shuffle`` (GRU4Rec's default
        keeps time order within a slot's stream; the order of sessions is what shuffles)."""
        offsets, items = self.sessions.offsets, self.sessions.items
        n = len(self.sessions)

        def stream() -> Iterator[int]:
            while True:
                yield from (rng.permutation(n) if shuffle else np.arange(n))

        order = stream()
        session = np.array([next(order) for _ in range(self.slots)], dtype=np.int64)
        position = offsets[session].copy()  # index of the slot's current input event
        reset = np.ones(self.slots, dtype=bool)
        for _ in range(self.steps):
            yield Step(items[position], items[position + 1], reset.copy())
            position += 1
            done = position + 1 >= offsets[session + 1]
            reset[:] = done
            for slot in np.flatnonzero(done):
                session[slot] = next(order)
                position[slot] = offsets[session[slot]]
