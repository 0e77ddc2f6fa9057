"""What the pandas engine checks over a whole column, over the blocks: ids missing (the
message names the file and its first rows, counted over the whole file), whether every text
id is a plain integer (then ids are int64, as ``typed_ids`` makes them), and rows below
``min_rating``. Each block reports a row per file it holds; the driver adds them up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import ray.data
import ray.exceptions

from raytrec.data.base import ITEM, RATING, USER
from raytrec.data.cluster.read import FILE, ROW
from raytrec.data.splits import SplitConfig
from raytrec.data.tabular import _PLAIN_INTEGER, TabularDataset
from raytrec.errors import DataError

SHOWN = 5  # rows a message names


# What Ray Data appends to the message of an exception its stage raised (the retries it made).
RETRY_NOTE = re.compile(r"\nFailed to .* after \d+/\d+ attempts \(total backoff .*", re.S)


@contextmanager
def data_errors() -> Iterator[None]:
    """A ``DataError`` raised in a task reaches the caller as itself (one line, no trace
    of the task that raised it)."""
    try:
        yield
    except ray.exceptions.RayError as exc:
        cause: BaseException | None = exc
        # A task's error arrives as a ``RayTaskError`` that is also an instance of its
        # ``cause``'s class, with the task's trace as its text: the cause has the message.
        while cause is not None and (not isinstance(cause, DataError) or
                                     isinstance(cause, ray.exceptions.RayError)):
            cause = getattr(cause, "cause", None) or cause.__cause__
        if cause is None:
            raise
        raise DataError(RETRY_NOTE.sub("", str(cause))) from None


def _plain(col: pd.Series) -> bool:
    if col.dtype != object and not pd.api.types.is_string_dtype(col):
        return False
    text = col.astype("string")
    return bool(text.notna().all() and text.str.fullmatch(_PLAIN_INTEGER).all())


def _block_summary(frame: pd.DataFrame, min_rating: float | None) -> pd.DataFrame:
    out = []
    for number, rows in frame.groupby(FILE, sort=True):
        row = {FILE: int(number), "rows": len(rows)}
        for col in (USER, ITEM):
            empty = rows[ROW].to_numpy()[rows[col].isna().to_numpy()]
            row[f"missing_{col}"] = len(empty)
            row[f"first_missing_{col}"] = np.sort(empty)[:SHOWN].tolist()
            row[f"plain_{col}"] = _plain(rows[col])
        row["below_min_rating"] = 0 if min_rating is None else \
            int((~(rows[RATING] >= min_rating)).sum())
        out.append(row)
    return pd.DataFrame(out)


def summarise(read: ray.data.Dataset, dataset: TabularDataset) -> pd.DataFrame:
    """One row per file: its rows, the ids it misses, whether its ids are plain integers, its
    rows below ``min_rating``. Raises, as the pandas engine does, for the first file (in its
    order) with a row without a user or item id."""
    blocks = read.map_batches(_block_summary, fn_args=(dataset.min_rating,),
                              batch_size=None, batch_format="pandas").to_pandas()
    files = dataset.interaction_files()
    summary = []
    for number, per_file in blocks.groupby(FILE, sort=True):
        key, path = files[int(number)]
        row = {"key": key, "rows": int(per_file["rows"].sum()),
               "below_min_rating": int(per_file["below_min_rating"].sum())}
        for col, name in ((USER, dataset.user_col), (ITEM, dataset.item_col)):
            missing = int(per_file[f"missing_{col}"].sum())
            if missing:
                first = np.sort(np.concatenate([np.asarray(v, dtype=np.int64) for v in
                                                per_file[f"first_missing_{col}"]]))
                more = f" and {missing - SHOWN} more" if missing > SHOWN else ""
                raise DataError(f"{dataset.name} dataset {key}: {path} has "
                                f"no {name} on {missing} of {row['rows']} rows "
                                f"({dataset.rows_text(first[:SHOWN])}{more}); every "
                                "interaction needs both ids: fill or drop those rows")
            row[f"plain_{col}"] = bool(per_file[f"plain_{col}"].all())
        summary.append(row)
    return pd.DataFrame(summary)


def typed(read: ray.data.Dataset, dataset: TabularDataset,
          summary: pd.DataFrame) -> ray.data.Dataset:
    """Ids typed as the dataset types them over all its files: text ids that are all plain
    integers become int64 (``typed_ids`` of a text format); others stay as read."""
    probe = pd.Series(["1"])
    if dataset.typed_ids(probe).dtype != np.int64:  # a format whose files type their ids
        return read
    whole = [col for col in (USER, ITEM) if summary[f"plain_{col}"].all()]
    if not whole:
        return read

    def cast(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(**{col: frame[col].astype(np.int64) for col in whole})

    return read.map_batches(cast, batch_format="pandas")


def no_hold_outs(name: str, split: SplitConfig) -> None:
    held = [k for k in ("cold_users", "cold_items") if getattr(split, k)]
    if held:
        raise DataError(f"split.{held[0]} holds rows out of a split raytrec makes, but "
                        f"{name} comes split already (train/valid/test files); give "
                        f"one file (path) for raytrec to split, or drop split.{held[0]}")
