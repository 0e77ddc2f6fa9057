"""Deterministic train/valid/test splits of an interaction table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from raytrec.config.sections import SplitConfig
from raytrec.data.base import ITEM, TIMESTAMP, USER

__all__ = ["SplitConfig", "split_interactions"]

TRAIN, VALID, TEST = 0, 1, 2


def split_interactions(df: pd.DataFrame, cfg: SplitConfig) -> np.ndarray:
    """(n,) int8 codes: 0 train, 1 valid, 2 test. ``df`` needs ``user`` (and ``timestamp``)."""
    if cfg.method == "ratio":
        codes = _per_user_ratio(df, cfg)
    elif TIMESTAMP not in df.columns:
        raise ValueError(f"split method '{cfg.method}' needs a timestamp column; the data has none")
    elif cfg.method == "leave-last-out":
        codes = _leave_last_out(df, cfg)
    else:
        codes = _temporal(df, cfg)
    if cfg.cold_users > 0:
        users = df[USER].to_numpy()
        unique = np.unique(users)
        # Its own random stream: the warm users' split is the same with or without cold users.
        rng = np.random.default_rng([cfg.seed, 1])
        cold = rng.choice(unique, size=round(cfg.cold_users * len(unique)), replace=False)
        codes[np.isin(users, cold)] = TEST
    if cfg.cold_items > 0:
        items = df[ITEM].to_numpy()
        unique = np.unique(items)
        rng = np.random.default_rng([cfg.seed, 2])  # its own stream, as for cold users
        cold = rng.choice(unique, size=round(cfg.cold_items * len(unique)), replace=False)
        codes[np.isin(items, cold)] = TEST
    return codes


def _rank_within_user(users: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each row within its user after sorting by ``key``, and the user's size."""
    order = np.lexsort((key, users))
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
    users = df[USER].to_numpy()
    key = np.random.default_rng(cfg.seed).random(len(df))
    rank, size = _rank_within_user(users, key)
    r_train, r_valid, _ = cfg.ratios
    n_train = np.rint(size * r_train).astype(np.int64)
    n_trval = np.rint(size * (r_train + r_valid)).astype(np.int64)
    codes = np.where(rank < n_train, TRAIN, np.where(rank < n_trval, VALID, TEST))
    codes[size < cfg.min_user_interactions] = TRAIN
    return codes.astype(np.int8)


def _leave_last_out(df: pd.DataFrame, cfg: SplitConfig) -> np.ndarray:
    users = df[USER].to_numpy()
    ts = df[TIMESTAMP].to_numpy(dtype=np.float64)
    # Seeded tie-break so equal timestamps split the same way every run.
    tie = np.random.default_rng(cfg.seed).random(len(df))
    order_key = np.lexsort((tie, ts))
    key = np.empty(len(df), dtype=np.int64)
    key[order_key] = np.arange(len(df))
    rank, size = _rank_within_user(users, key)
    from_end = size - 1 - rank
    codes = np.where(from_end == 0, TEST, np.where(from_end == 1, VALID, TRAIN))
    codes[size < max(cfg.min_user_interactions, 3)] = TRAIN
    return codes.astype(np.int8)


def _temporal(df: pd.DataFrame, cfg: SplitConfig) -> np.ndarray:
    ts = df[TIMESTAMP].to_numpy(dtype=np.float64)
    tie = np.random.default_rng(cfg.seed).random(len(df))
    order = np.lexsort((tie, ts))
    pos = np.empty(len(df), dtype=np.int64)
    pos[order] = np.arange(len(df))
    r_train, r_valid, _ = cfg.ratios
    n_train = round(len(df) * r_train)
    n_trval = round(len(df) * (r_train + r_valid))
    return np.where(pos < n_train, TRAIN, np.where(pos < n_trval, VALID, TEST)).astype(np.int8)
