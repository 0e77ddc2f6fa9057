"""Contiguous indices of the distinct ids of a column, in sorted order (what
``pd.factorize(sort=True)`` gives the pandas engine), without a join: the rows are sorted by
the column, each block counts its distinct ids, the driver adds the counts up (an id that
spans the boundary of two blocks counted once), and each block numbers its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import ray.data

from raytrec.data.cluster.blocks import per_block, with_args


def _ends(frame: pd.DataFrame, column: str) -> tuple[int, object, object]:
    values = frame[column]
    if not len(values):
        return 0, None, None
    return int(values.nunique()), values.iloc[0], values.iloc[-1]


def _number(frame: pd.DataFrame, column: str, start: int, repeats: bool,
            index: str) -> pd.DataFrame:
    codes, _ = pd.factorize(frame[column], sort=False)  # sorted rows: codes in order
    return frame.assign(**{index: start - int(repeats) + codes.astype(np.int64)})


def numbered(rows: ray.data.Dataset, column: str, index: str) -> tuple[ray.data.Dataset, int]:
    """``rows`` sorted by ``column``, with the index of each row's id in ``index``; and how
    many distinct ids there are."""
    ordered = rows.sort(column).materialize()
    ends = per_block(ordered, lambda frame: _ends(frame, column))
    args, seen, last = [], 0, None
    for distinct, first, final in ends:
        repeats = bool(distinct) and last is not None and first == last
        args.append((column, seen, repeats, index))
        if distinct:
            seen += distinct - int(repeats)
            last = final
    return with_args(ordered, _number, args), seen
