"""Keyed hashes of rows: a split's random draws as a pure function of (seed, user, item).

A split that draws a random number per row in the order the rows arrive depends on that
order, which an engine that reads files in parallel does not keep. A keyed hash of the row's
own ids does not: the same interaction gets the same key from any engine, any file order and
any number of files. Keys are 64-bit; ids hash by value (pandas' ``hash_array``: text ids by
their characters, integer ids as int64 whatever their width).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Independent streams of one seed: each draw of a split has its own.
ROW_ORDER, COLD_USERS, COLD_ITEMS, SHUFFLE = 0, 1, 2, 3

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every bit of ``x`` (uint64) reaches every bit of the result."""
    with np.errstate(over="ignore"):
        x = (x + _GOLDEN).astype(np.uint64)
        x = (x ^ (x >> np.uint64(30))) * _MIX1
        x = (x ^ (x >> np.uint64(27))) * _MIX2
        return x ^ (x >> np.uint64(31))


def id_hash(ids: np.ndarray | pd.Series) -> np.ndarray:
    """uint64 per id, by value: integer ids of any width hash as int64."""
    values = ids.to_numpy() if isinstance(ids, pd.Series) else np.asarray(ids)
    if values.dtype.kind in "iu":
        values = values.astype(np.int64)
    return pd.util.hash_array(values, categorize=False)


def row_keys(seed: int, stream: int, *columns: np.ndarray | pd.Series) -> np.ndarray:
    """uint64 key per row of ``columns`` (ids, one array each), under ``seed`` and ``stream``."""
    with np.errstate(over="ignore"):
        key = mix(np.full(len(columns[0]), np.uint64(seed % 2**64) * _MIX1 + np.uint64(stream),
                          dtype=np.uint64))
        for column in columns:
            key = mix(key ^ id_hash(column))
    return key
