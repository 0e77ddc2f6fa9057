"""What every check shares: the tiny data, the error, pickling and argument checks."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd

from raytrec.data.base import DataInfo
from raytrec.data.store import UserItems
from raytrec.errors import ConformanceError, fail_unless

__all__ = ["ConformanceError", "fail_unless", "tiny_info"]


def tiny_info(num_users: int = 12, num_items: int = 300, seed: int = 0) -> DataInfo:
    """Training statistics of a small catalogue with positives and user and item features
    (items: ``genres`` multi-hot, ``year`` numeric, ``studio`` categorical; users: ``age``
    numeric, ``occupation`` categorical)."""
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(num_users), 6)
    items = rng.integers(0, num_items, len(users))
    info = DataInfo(num_users=num_users, num_items=num_items,
                    item_counts=np.bincount(items, minlength=num_items).astype(np.int64),
                    num_train=len(users), positives=UserItems.from_pairs(users, items,
                                                                         num_users))
    info.item_features = pd.DataFrame({
        "genres": [list(rng.choice(["a", "b", "c"], rng.integers(0, 3)))
                   for _ in range(num_items)],
        "year": rng.normal(1990, 10, num_items),
        "studio": rng.choice(["x", "y"], num_items),
    })
    info.user_features = pd.DataFrame({"age": rng.integers(18, 70, num_users).astype(float),
                                       "occupation": rng.choice(["p", "q"], num_users)})
    return info


def build(cls: type[Any], kwargs: dict[str, Any], section: str) -> Any:
    """``cls(**kwargs)`` through raytrec's own config binding: the arguments must bind the way
    a config's would (types annotated, errors keyed to an argument)."""
    from raytrec.config.bind import bind

    obj, problems = bind(section, cls, kwargs)
    fail_unless(not problems, cls.__name__,
                f"the arguments {kwargs} do not bind: {'; '.join(map(str, problems))}")
    return obj


def check_pickles(obj: Any) -> Any:
    """Ray ships components to workers by pickling them."""
    try:
        return pickle.loads(pickle.dumps(obj))
    except Exception as exc:
        raise ConformanceError(f"{type(obj).__name__}: cannot be pickled for Ray workers "
                               f"({type(exc).__name__}: {exc})") from exc
