"""The stage that needs every row of a user together: repeated (user, item) pairs merged and
the per-user splits drawn (``ratio``, ``leave-last-out``), with the pandas engine's own
functions, on buckets of whole users (a keyed hash of the user id picks the bucket), so the
rows of many users make one call."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from raytrec.data.base import ITEM, SPLIT, SPLITS, TIMESTAMP, USER
from raytrec.data.cluster.read import FILE, ROW
from raytrec.data.keys import SHUFFLE, id_hash, row_keys
from raytrec.data.splits import SplitConfig, split_interactions

BUCKET, CODE, ORDER = "_bucket", "_code", "_order"


def bucket(frame: pd.DataFrame, buckets: int) -> pd.DataFrame:
    """``frame`` with the bucket of each row's user."""
    return frame.assign(**{BUCKET: (id_hash(frame[USER]) % np.uint64(buckets)).astype(np.int64)})


def merged(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (user, item): the first record, by timestamp when there is one, then by
    its place in the files (as ``prepare._checked`` keeps the first after a stable sort)."""
    order = [FILE, ROW] if TIMESTAMP not in frame.columns else [TIMESTAMP, FILE, ROW]
    first = frame.sort_values(order, kind="stable", na_position="last")
    return first.drop_duplicates(subset=[USER, ITEM], keep="first")


def per_user(frame: pd.DataFrame, split: SplitConfig) -> pd.DataFrame:
    """The rows of a bucket of whole users merged, with their split ``_code`` (where the
    split is per user or given; -1 for ``temporal``, cut later over all rows) and the key
    that orders train (``_order``)."""
    rows = merged(frame.drop(columns=[BUCKET])).reset_index(drop=True)
    if SPLIT in rows.columns:
        codes = rows[SPLIT].map({name: i for i, name in enumerate(SPLITS)}).to_numpy(np.int8)
        rows = rows.drop(columns=[SPLIT])
    elif split.method == "temporal":
        codes = np.full(len(rows), -1, dtype=np.int8)
    else:  # the hold-outs are drawn over all ids, later
        codes = split_interactions(rows, replace(split, cold_users=0.0, cold_items=0.0))
    return rows.assign(**{CODE: codes, ORDER: row_keys(split.seed, SHUFFLE, rows[USER],
                                                       rows[ITEM])})
