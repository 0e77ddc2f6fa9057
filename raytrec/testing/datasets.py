"""``check_dataset``: what ``load`` returns (``raytrec.data.RawData``), that a second load
returns the same, and that raytrec prepares it."""

from __future__ import annotations

import inspect
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from raytrec.data.base import ITEM, RATING, SPLIT, SPLITS, TIMESTAMP, USER, Dataset, RawData
from raytrec.errors import DataError
from raytrec.tasks import Task
from raytrec.testing.common import ConformanceError, build, fail_unless

COLUMNS = (USER, ITEM, RATING, TIMESTAMP, SPLIT)


def check_dataset(cls: type[Dataset], task: Task | None = None, **kwargs: Any) -> None:
    """Check a dataset class built with ``kwargs`` (its ``data`` section's arguments; keep
    the data small): ``path_args`` names arguments of ``__init__``; ``load`` returns
    ``RawData`` with non-empty interactions, ``user`` and ``item`` ids without gaps, numeric
    ``rating`` and ``timestamp`` columns where present, ``split`` values among train, valid
    and test, feature tables with unique ids that the interactions use, and ``dropped``
    counts by reason; a second instance loads the same data; and ``task``'s ``prepare``
    (default: the user-item task, the default ``split``) prepares it in a temporary
    directory, twice alike, with training rows in it."""
    from raytrec.config.sections import SplitConfig
    from raytrec.tasks.user_item import UserItemTask

    name = cls.__name__
    params = inspect.signature(cls.__init__).parameters
    unknown = [a for a in cls.path_args if a not in params]
    fail_unless(not unknown, name, f"path_args names {unknown}, which __init__ does not take")
    raw = _load(build(cls, kwargs, "data"), name)
    _check_raw(raw, name)
    again = _load(build(cls, kwargs, "data"), name)
    fail_unless(_same(raw, again), name, "a second load must return the same data (seed any "
                "random draw from the dataset's arguments): a run's data is a function of its "
                "config")
    task = task if task is not None else UserItemTask()
    with tempfile.TemporaryDirectory(prefix="raytrec-check-") as tmp:
        infos = []
        for folder, data in (("data", raw), ("again", again)):
            try:
                task.prepare(data, SplitConfig(), Path(tmp) / folder)
            except DataError as exc:
                raise ConformanceError(f"{name}: {type(task).__name__} cannot prepare what "
                                       f"load returned: {exc}") from exc
            infos.append(task.training_info(Path(tmp) / folder))
    first, second = infos
    fail_unless(first.num_train > 0 and first.num_items > 0, name,
                "the prepared data must hold training rows")
    fail_unless(first.num_items <= raw.interactions[ITEM].nunique(), name,
                f"the prepared catalogue ({first.num_items} items) is larger than the items "
                "the interactions name")
    fail_unless((first.num_users, first.num_items, first.num_train)
                == (second.num_users, second.num_items, second.num_train)
                and np.array_equal(first.item_counts, second.item_counts), name,
                "two preparations of the same data differ")


def _load(dataset: Dataset, name: str) -> RawData:
    try:
        raw = dataset.load()
    except DataError as exc:
        raise ConformanceError(f"{name}: load raised DataError: {exc}") from exc
    fail_unless(isinstance(raw, RawData), name,
                f"load must return raytrec.data.RawData, got {type(raw).__name__}")
    return raw


def _check_raw(raw: RawData, name: str) -> None:
    frame = raw.interactions
    fail_unless(isinstance(frame, pd.DataFrame), name, "interactions must be a DataFrame")
    fail_unless({USER, ITEM} <= set(frame.columns), name,
                f"interactions need user and item columns, got {list(frame.columns)}")
    extra = [c for c in frame.columns if c not in COLUMNS]
    fail_unless(not extra, name, f"interactions may have only {', '.join(COLUMNS)}; got "
                f"{extra} as well")
    fail_unless(len(frame) > 0, name, "load returned no interactions")
    for col in (USER, ITEM):
        fail_unless(not frame[col].isna().any(), name, f"every interaction needs a {col} id")
    for col in (RATING, TIMESTAMP):
        if col in frame.columns:
            fail_unless(pd.api.types.is_numeric_dtype(frame[col]), name,
                        f"{col} must be numeric, got {frame[col].dtype}")
    if SPLIT in frame.columns:
        bad = set(frame[SPLIT].astype(str).str.lower()) - set(SPLITS)
        fail_unless(not bad, name, f"split values must be among {SPLITS}, got {sorted(bad)}")
    for kind, col in (("user", USER), ("item", ITEM)):
        table = getattr(raw, f"{kind}_features")
        if table is None:
            continue
        fail_unless(isinstance(table, pd.DataFrame) and table.index.is_unique, name,
                    f"{kind}_features must be a DataFrame indexed by unique {kind} ids")
        fail_unless(bool(table.index.isin(frame[col]).any()), name,
                    f"{kind}_features must be indexed by the ids of the interactions' {col} "
                    "column; none of its ids are there")
    fail_unless(isinstance(raw.name, str) and bool(raw.name), name, "name must be a text")
    fail_unless(all(isinstance(k, str) and isinstance(v, int | np.integer) and v >= 0
                    for k, v in raw.dropped.items()), name,
                "dropped counts rows by reason: {reason: count >= 0}")


def _same(a: RawData, b: RawData) -> bool:
    def equal(x: pd.DataFrame | None, y: pd.DataFrame | None) -> bool:
        return (x is None and y is None) or (x is not None and y is not None and x.equals(y))

    return (equal(a.interactions, b.interactions) and equal(a.user_features, b.user_features)
            and equal(a.item_features, b.item_features) and a.dropped == b.dropped)
