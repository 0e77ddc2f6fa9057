"""Feature columns to tensors: vocabularies and statistics come from training rows only."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from raytrec.data.base import rows_text
from raytrec.errors import ArgumentError

KINDS = ("categorical", "multi_hot", "numeric", "dense")


def check_spec(name: str, spec: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """``{kind: [column, ...]}`` with kinds from KINDS; raises ArgumentError naming ``name``."""
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise ArgumentError(name, f"must map feature kinds ({', '.join(KINDS)}) to column lists")
    bad = sorted(set(spec) - set(KINDS))
    if bad:
        raise ArgumentError(name, f"has unknown feature kinds {bad}; use {', '.join(KINDS)}")
    for kind, cols in spec.items():
        if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
            raise ArgumentError(name, f"must list column names under '{kind}', got {cols!r}")
    return {k: list(v) for k, v in spec.items() if v}


@dataclass
class Encoded:
    """A feature table as tensors (row i = user or item i); 0 is the unknown id everywhere."""

    categorical: torch.Tensor  # (N, C) int64
    vocab_sizes: list[int]  # per categorical column, including the unknown id 0
    multi_hot: list[torch.Tensor] = field(default_factory=list)  # each (N, L) int64, 0 = pad
    multi_vocab: list[int] = field(default_factory=list)
    numeric: torch.Tensor | None = None  # (N, F) standardised
    dense: torch.Tensor | None = None  # (N, E)

    def to(self, device: torch.device) -> Encoded:
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return Encoded(self.categorical.to(device), self.vocab_sizes,
                       [t.to(device) for t in self.multi_hot], self.multi_vocab,
                       move(self.numeric), move(self.dense))


@dataclass
class Encoding:
    """What ``fit_encoding`` learned from the training rows: a vocabulary per categorical and
    multi-hot column, the mean and spread of the numeric ones. ``apply`` encodes any table
    with those columns the same way (rows never seen in training: served from features)."""

    spec: dict[str, list[str]]
    what: str
    vocabularies: list[pd.Index]
    multi_vocabularies: list[dict[str, int]]
    mean: np.ndarray
    std: np.ndarray

    def apply(self, table: pd.DataFrame) -> Encoded:
        """``table``'s rows encoded; values no training row had map to the unknown id 0."""
        _check_columns(table, self.spec, self.what)
        cats = [_categorical(table[c], vocab)
                for c, vocab in zip(self.spec.get("categorical", []), self.vocabularies,
                                    strict=True)]
        multi = [_multi_hot(_lists(table[c]), lookup)
                 for c, lookup in zip(self.spec.get("multi_hot", []), self.multi_vocabularies,
                                      strict=True)]
        numeric = None
        if self.spec.get("numeric"):
            values = _numeric_values(table, self.spec["numeric"], self.what)
            numeric = torch.from_numpy((values - self.mean) / self.std).float()
        dense = _dense(table, self.spec.get("dense", []), self.what)
        cat_ids = (torch.stack(cats, 1) if cats
                   else torch.zeros(len(table), 0, dtype=torch.int64))
        return Encoded(cat_ids, [len(v) + 1 for v in self.vocabularies], multi,
                       [len(v) + 1 for v in self.multi_vocabularies], numeric, dense)


def fit_encoding(table: pd.DataFrame, spec: dict[str, list[str]], fit: np.ndarray,
                 what: str) -> Encoding:
    """Learn ``spec``'s vocabularies and statistics from the rows of ``table`` that ``fit``
    (bool per row) marks as training rows."""
    _check_columns(table, spec, what)
    vocabularies = [pd.Index(sorted(table[c].astype("string")[fit].dropna().unique()))
                    for c in spec.get("categorical", [])]
    multi = []
    for c in spec.get("multi_hot", []):
        lists = _lists(table[c])
        seen = sorted({str(x) for row, keep in zip(lists, fit, strict=True) if keep
                       for x in row})
        multi.append({v: i + 1 for i, v in enumerate(seen)})
    cols = spec.get("numeric", [])
    mean = std = np.zeros(len(cols))
    if cols:
        values = _numeric_values(table, cols, what)
        mean, spread = values[fit].mean(0), values[fit].std(0)
        std = np.where(spread > 0, spread, 1.0)
    return Encoding(spec, what, vocabularies, multi, mean, std)


def encode(table: pd.DataFrame, spec: dict[str, list[str]], fit: np.ndarray,
           what: str) -> Encoded:
    """Encode ``spec``'s columns of ``table``; ``fit`` (bool per row) marks training rows.

    Values never seen in a training row map to the unknown id 0 (not an error); NaN or inf in
    numeric or dense columns is an error naming the column.
    """
    return fit_encoding(table, spec, fit, what).apply(table)


def _check_columns(table: pd.DataFrame, spec: dict[str, list[str]], what: str) -> None:
    missing = [c for cols in spec.values() for c in cols if c not in table.columns]
    if missing:
        raise ValueError(f"{what} features {missing} are not in the {what} feature table "
                         f"(columns: {', '.join(map(str, table.columns))})")


def _categorical(col: pd.Series, vocab: pd.Index) -> torch.Tensor:
    ids = vocab.get_indexer(col.astype("string").fillna("\0")) + 1  # -1 (unseen, missing) -> 0
    return torch.from_numpy(ids.astype(np.int64))


def _lists(col: pd.Series) -> list[list]:
    return [list(v) if isinstance(v, list | tuple | np.ndarray) else [] for v in col]


def _multi_hot(lists: list[list], lookup: dict[str, int]) -> torch.Tensor:
    width = max((len(r) for r in lists), default=0) or 1
    ids = np.zeros((len(lists), width), dtype=np.int64)
    for i, row in enumerate(lists):
        ids[i, :len(row)] = [lookup.get(str(x), 0) for x in row]
    return torch.from_numpy(ids)


def _numeric_values(table: pd.DataFrame, cols: list[str], what: str) -> np.ndarray:
    values = np.stack([_numbers(table[c], what) for c in cols], axis=1)
    for c, column in zip(cols, values.T, strict=True):
        _check_finite(table, c, column, what)
    return values


def _numbers(col: pd.Series, what: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=np.float64)
    values = pd.to_numeric(col, errors="coerce")
    text = values.isna() & col.notna()
    if text.any():
        at = int(np.flatnonzero(text.to_numpy())[0])
        raise ValueError(f"{what} feature column '{col.name}' is declared numeric but holds "
                         f"text ({col.iloc[at]!r} for {what} index {at}); fix the value or "
                         f"list the column under categorical")
    return values.to_numpy(dtype=np.float64)


def _check_finite(table: pd.DataFrame, name: str, column: np.ndarray, what: str) -> None:
    bad = ~np.isfinite(column)
    if not bad.any():
        return
    no_row = bad & table.isna().all(axis=1).to_numpy()
    if no_row.any():
        raise ValueError(f"{what} feature column '{name}' has no value for {int(no_row.sum())} "
                         f"of {len(column)} {what}s because the {what} feature file has no row "
                         f"for them ({_indices(no_row, what)}); add their rows, or use "
                         f"a categorical column, where a missing value is the unknown bucket")
    raise ValueError(f"{what} feature column '{name}' holds NaN or inf for {int(bad.sum())} "
                     f"{what}s ({_indices(bad, what)}); fill or drop them")


def _indices(mask: np.ndarray, what: str) -> str:
    return rows_text(np.flatnonzero(mask), first=0, word=f"{what} indices")


def _dense(table: pd.DataFrame, cols: list[str], what: str) -> torch.Tensor | None:
    if not cols:
        return None
    parts = []
    for c in cols:
        matrix = np.stack([np.asarray(v, dtype=np.float64) for v in table[c]])
        if not np.isfinite(matrix).all():
            raise ValueError(f"{what} feature column ['{c}'] contains NaN or inf; fill or drop it")
        parts.append(matrix)
    return torch.from_numpy(np.concatenate(parts, axis=1)).float()
