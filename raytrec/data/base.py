"""Dataset plugins and the data that flows out of them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# Column names of an interaction table, before and after id mapping.
USER, ITEM, RATING, TIMESTAMP, SPLIT = "user", "item", "rating", "timestamp", "split"
SPLITS = ("train", "valid", "test")


@dataclass
class RawData:
    """What a dataset plugin returns: interactions keyed by the dataset's own ids.

    ``interactions`` has columns ``user``, ``item`` and optionally ``rating``, ``timestamp`` and
    ``split`` (values ``train``/``valid``/``test``: a ready-made split, used as given).
    Feature tables are indexed by the same raw ids as the interactions.
    """

    interactions: pd.DataFrame
    user_features: pd.DataFrame | None = None
    item_features: pd.DataFrame | None = None
    name: str = "dataset"


@dataclass
class DataInfo:
    """Sizes and statistics of the training data that components need to set themselves up."""

    num_users: int
    num_items: int
    item_counts: np.ndarray  # (I,) int64 training interactions per item
    num_train: int = 0
    # All training pairs as per-user item lists (raytrec.data.store.UserItems), when loaded.
    positives: Any = None
    # Feature tables, row i = user/item i (pandas DataFrames), when the dataset has them.
    user_features: Any = None
    item_features: Any = None
    extra: dict[str, object] = field(default_factory=dict)


class Dataset(ABC):
    """Base class of dataset plugins: arguments in ``__init__``, work in ``load``.

    ``__init__`` only stores and checks arguments (it runs during config validation, before
    any file is read); ``load`` reads or generates the data.
    """

    @abstractmethod
    def load(self) -> RawData:
        """Read or generate the interactions (and feature tables, where the source has them)."""
