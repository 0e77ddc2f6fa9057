"""Which users an evaluation scores."""

from __future__ import annotations

import numpy as np


def sample_users(users: np.ndarray, max_users: int | None, seed: int) -> np.ndarray:
    """At most ``max_users`` of ``users``, drawn without replacement by ``seed``, sorted."""
    if max_users is None or len(users) <= max_users:
        return users
    rng = np.random.default_rng([seed, 0x5EED])
    return np.sort(rng.choice(users, max_users, replace=False))
