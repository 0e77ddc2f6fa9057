"""Dataset plugins and the data that flows out of them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

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
    Feature tables are indexed by the same raw ids as the interactions. ``dropped`` counts the
    rows the plugin left out on purpose, by reason (e.g. ``{"rated below min_rating": 120}``):
    preparation reports them with its own.
    """

    interactions: pd.DataFrame
    user_features: pd.DataFrame | None = None
    item_features: pd.DataFrame | None = None
    name: str = "dataset"
    dropped: dict[str, int] = field(default_factory=dict)


@dataclass
class DataInfo:
    """Sizes and statistics of the training data that components need to set themselves up."""

    num_users: int
    num_items: int
    item_counts: np.ndarray  # (I,) int64 training interactions per item
    num_train: int = 0
    # Training pairs as per-user item lists (raytrec.data.store.UserItems), when loaded: of
    # the queries q with q % parts == part, ``part`` (part, parts): a worker's own queries
    # (``Task.worker_info``), every query where parts is 1.
    positives: Any = None
    part: tuple[int, int] = (0, 1)
    # (num_users,) int64 training rows per query, every query's, when loaded.
    query_counts: Any = None
    # Feature tables, row i = user/item i (pandas DataFrames), when the dataset has them.
    user_features: Any = None
    item_features: Any = None
    extra: dict[str, object] = field(default_factory=dict)
    # What ``num_users`` counts, as messages name it: a task whose queries are not user ids
    # says what they are ("training sessions").
    queries: str = "users"

    def training_rows(self) -> np.ndarray | None:
        """``(num_users,)`` training rows per query: ``query_counts``, or counted from
        ``positives`` where those are every query's; None when neither is known."""
        if self.query_counts is not None:
            return np.asarray(self.query_counts)
        if self.positives is not None and self.part[1] == 1:
            return self.positives.counts()
        return None


class Dataset(ABC):
    """Base class of dataset plugins: arguments in ``__init__``, work in ``load``.

    Writing a dataset:

    - ``__init__`` only stores and checks arguments (see the rules for every component in
      ``raytrec.hookspecs``; it runs during config validation, before any file is read).
    - ``load()`` reads or generates the data and returns ``RawData``: interactions keyed by the
      source's own ids (raytrec maps them to dense ids, drops duplicates and splits), feature
      tables indexed by the same ids, and ``dropped`` counts of rows left out on purpose.
    - A problem with the source is a ``raytrec.errors.DataError`` naming the file, the cause
      and the fix; it reaches the user as one line.

    ``path_args`` names the arguments that are file or folder paths: a relative one written in
    a config file is taken from that file's folder, one given with ``--set`` from the current
    folder, and the run's ``config.yaml`` records it absolute.
    """

    path_args: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def load(self) -> RawData:
        """Read or generate the interactions (and feature tables, where the source has them)."""


def rows_text(positions: np.ndarray, first: int = 1, word: str = "rows") -> str:
    """``rows 3, 17, 25 and 4 more`` for 0-based ``positions``, numbered from ``first``."""
    shown = ", ".join(str(int(p) + first) for p in positions[:5])
    more = f" and {len(positions) - 5} more" if len(positions) > 5 else ""
    return f"{word} {shown}{more}"
