"""Deterministic train/valid/test splits of an interaction table.

Every draw is a keyed hash of the row's ids (``raytrec.data.keys``), not a random number per
row in the order the rows came: the split of the same interactions with the same seed is
the same whatever the order of rows and files, so an engine that reads in parallel writes
what pandas writes. Ties (equal timestamps) break by that key too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from raytrec.config.sections import SplitConfig
from raytrec.data.base import ITEM, TIMESTAMP, USER
from raytrec.data.keys import COLD_ITEMS, COLD_USERS, ROW_ORDER, id_hash, row_keys

__all__ = ["SplitConfig", "split_interactions"]

TRAIN, VALID, TEST = 0, 1, 2


def split_interactions(df: pd.DataFrame, cfg: SplitConfig) -> np.ndarray:
    """(n,) int8 codes: 0 train, 1 valid, 2 test. ``df`` needs ``user``, ``item`` (the
    dataset's ids, each (user, item) pair once) and, but for ``ratio``, ``timestamp``."""
    if cfg.method == "ratio":
        codes = _per_user_ratio(df, cfg)
    elif TIMESTAMP not in df.columns:
        raise ValueError(f"split method '{cfg.method}' needs a timestamp column; the data has none")
    elif cfg.method == "leave-last-out":
        codes = _leave_last_out(df, cfg)
    else:
        codes = _temporal(df, cfg)
    for share, column, stream in ((cfg.cold_users, USER, COLD_USERS),
                                  (cfg.cold_items, ITEM, COLD_ITEMS)):
        if share > 0:  # a stream of its own: the other rows' split is the same without it
            codes[df[column].isin(held_out(df[column], share, cfg.seed, stream)).to_numpy()] = TEST
    return codes


def held_out(ids: pd.Series, share: float, seed: int, stream: int) -> np.ndarray:
    """The ``round(share · n)`` of the ``n`` distinct ``ids`` with the smallest keys."""
    unique = pd.unique(ids)
    keys = row_keys(seed, stream, unique)
    return unique[np.lexsort((id_hash(unique), keys))[:round(share * len(unique))]]


def _row_keys(df: pd.DataFrame, cfg: SplitConfig) -> np.ndarray:
    return row_keys(cfg.seed, ROW_ORDER, df[USER], df[ITEM])


def _rank_within_user(users: np.ndarray, *keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each row within its user after sorting by ``keys`` (the first decides),
    and the user's size."""
    order = np.lexsort((*reversed(keys), users))
    su = users[order]
    starts = np.r_[0, np.flatnonzero(su[1:] != su[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(su)])
    pos_sorted = np.arange(len(su)) - np.repeat(starts, sizes)
    rank = np.empty(len(su), dtype=np.int64)
    size = np.empty(len(su), dtype=np.int64)
    rank[order] = pos_sorted
    size[order] = np.repeat(sizes, sizes)
    return rank, size


def _per_user_ratio(df: pd.DataFrame, cfg: SplitConfig) -> np.ndarray:
    users = pd.factorize(df[USER])[0]
    rank, size = _rank_within_user(users, _row_keys(df, cfg))
    r_train, r_valid, _ = cfg.ratios
    n_train = np.rint(size * r_train).astype(np.int64)
    n_trval = np.rint(size * (r_train + r_valid)).astype(np.int64)
    codes = np.where(rank < n_train, TRAIN, np.where(rank < n_trval, VALID, TEST))
    codes[size < cfg.min_user_interactions] = TRAIN
    return codes.astype(np.int8)


def _leave_last_out(df: pd.DataFrame, cfg: SplitConfig) -> np.ndarray:
    users = pd.factorize(df[USER])[0]
    ts = df[TIMESTAMP].to_numpy(dtype=np.float64)
    rank, size = _rank_within_user(users, ts, _row_keys(df, cfg))  # keyed tie-break
    from_end = size - 1 - rank
    codes = np.where(from_end == 0, TEST, np.where(from_end == 1, VALID, TRAIN))
    codes[size < max(cfg.min_user_interactions, 3)] = TRAIN
    return codes.astype(np.int8)


def _temporal(df: pd.DataFrame, cfg: SplitConfig) -> np.ndarray:
    ts = df[TIMESTAMP].to_numpy(dtype=np.float64)
    order = np.lexsort((_row_keys(df, cfg), ts))
    pos = np.empty(len(df), dtype=np.int64)
    pos[order] = np.arange(len(df))
    r_train, r_valid, _ = cfg.ratios
    n_train = round(len(df) * r_train)
    n_trval = round(len(df) * (r_train + r_valid))
    return np.where(pos < n_train, TRAIN, np.where(pos < n_trval, VALID, TEST)).astype(np.int8)
