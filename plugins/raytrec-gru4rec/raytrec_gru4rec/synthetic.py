"""Synthetic sessions with a known structure: what a next-item model must learn is planted.

Each item ``i`` has one successor ``(a·i + b) mod I`` (a permutation of the catalogue); a
session starts at an item drawn ∝ rank^-1 and moves to the successor with probability
``follow``, to an item drawn by popularity otherwise. A model that learnt the successors
reaches Recall@1 ≈ ``follow``; popularity stays near the head's share. Sessions start over
``days`` days (one every so often, seeded), their events a minute apart.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from raytrec.api import ITEM, TIMESTAMP, USER, ArgumentError, Dataset, RawData


class SyntheticSessions(Dataset):
    """Args: num_sessions, num_items, mean_length (events per session, at least 2), follow
    (probability of the planted successor), days (span of the session starts), seed."""

    def __init__(self, num_sessions: int = 2000, num_items: int = 200, mean_length: float = 6.0,
                 follow: float = 0.8, days: float = 10.0, seed: int = 0) -> None:
        if num_sessions < 1:
            raise ArgumentError("num_sessions", f"must be >= 1, got {num_sessions}")
        if num_items < 3:
            raise ArgumentError("num_items", f"must be >= 3, got {num_items}")
        if not mean_length >= 2:
            raise ArgumentError("mean_length", f"must be >= 2, got {mean_length}")
        if not 0.0 <= follow <= 1.0:
            raise ArgumentError("follow", f"must be in [0, 1], got {follow}")
        if not days > 0:
            raise ArgumentError("days", f"must be > 0, got {days}")
        self.num_sessions, self.num_items, self.mean_length = num_sessions, num_items, mean_length
        self.follow, self.days, self.seed = follow, days, seed

    def successor(self, items: np.ndarray) -> np.ndarray:
        """The planted next item of each of ``items``."""
        n = self.num_items
        a = next(k for k in range(int(math.sqrt(n)) + 1, n) if math.gcd(k, n) == 1)
        return (a * items + 1) % n

    def load(self) -> RawData:
        rng = np.random.default_rng(self.seed)
        n = self.num_items
        weights = 1.0 / np.arange(1, n + 1)
        weights /= weights.sum()
        lengths = 2 + rng.poisson(self.mean_length - 2, self.num_sessions)
        starts = np.sort(rng.uniform(0, self.days * 86_400.0, self.num_sessions))
        sessions, items, times = [], [], []
        for s, (length, start) in enumerate(zip(lengths, starts, strict=True)):
            current = int(rng.choice(n, p=weights))
            for e in range(length):
                sessions.append(s)
                items.append(current)
                times.append(start + 60.0 * e)
                follow = rng.random() < self.follow
                current = int(self.successor(np.array([current]))[0]) if follow \
                    else int(rng.choice(n, p=weights))
        frame = pd.DataFrame({USER: sessions, ITEM: items, TIMESTAMP: times})
        return RawData(frame, name="synthetic-sessions")
