"""Interactions from your own CSV or Parquet files.

Either one file (``path``), which raytrec splits, or ready-made ``train`` (+ ``valid``,
``test``) files, which are used as given. Optional feature files in the same format hold one
row per user or item, keyed by the ``user_col`` / ``item_col`` column. Any of these may name a
folder instead of a file: its files are read in path order as one table (``data.folders``).

Ids are compared as written: CSV ids are read as text, and a column whose every id is a plain
integer (``37``, not ``037`` or ``+37``) becomes int64; otherwise ids stay text, so ``037``
and ``37`` are two users. Parquet ids keep the file's types. A row without a user or item id
is an error naming its line.
"""

from __future__ import annotations

import logging
import os
from abc import abstractmethod
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from raytrec.data.base import ITEM, RATING, SPLIT, TIMESTAMP, USER, Dataset, RawData, rows_text
from raytrec.data.columns import numeric, seconds
from raytrec.data.files import (
    READ_ERRORS,
    nested_id_types,
    not_a_file,
    not_parquet,
    separator_hint,
)
from raytrec.data.folders import folder_files
from raytrec.errors import ArgumentError, DataError

SOURCES = ("path", "train", "valid", "test")  # the options that name interactions, in order
logger = logging.getLogger(__name__)


class TabularDataset(Dataset):
    """Shared logic of the CSV and Parquet datasets; subclasses only read files.

    Args:
        path: one file with all interactions (split by raytrec).
        train, valid, test: a ready-made split instead of ``path`` (``valid``/``test``
            optional); rows get a ``split`` column and are used as given.
        user_col, item_col: the id columns.
        rating_col, timestamp_col: optional rating and time columns (timestamps may be numbers
            or dates).
        min_rating: drop rows rated below this (needs ``rating_col``).
        user_features, item_features: files with one row per user / item, keyed by
            ``user_col`` / ``item_col``.
    """

    name = "tabular"
    kind = "table"
    path_args = ("path", "train", "valid", "test", "user_features", "item_features")

    def __init__(
        self, path: str | None = None, train: str | None = None, valid: str | None = None,
        test: str | None = None, user_col: str = "user_id", item_col: str = "item_id",
        rating_col: str | None = None, timestamp_col: str | None = None,
        min_rating: float | None = None, user_features: str | None = None,
        item_features: str | None = None,
    ) -> None:
        files = {"path": path, "train": train, "valid": valid, "test": test,
                 "user_features": user_features, "item_features": item_features}
        for key, value in files.items():
            if value is not None and (not isinstance(value, str | os.PathLike) or not str(value)):
                raise ArgumentError(key, f"must be a non-empty path string, got {value!r}")
        if (path is None) == (train is None):
            raise ValueError("give exactly one of path (one file, split by raytrec) or train "
                             "(+ optional valid and test: a ready-made split)")
        if path is not None and (valid is not None or test is not None):
            raise ArgumentError("path",
                                "cannot be combined with valid or test; for a ready-made split "
                                "give train (+ valid, test) instead of path")
        _check_columns(user_col, item_col, rating_col, timestamp_col)
        if min_rating is not None:
            if isinstance(min_rating, bool) or not isinstance(min_rating, int | float):
                raise ArgumentError("min_rating", f"must be a number, got {min_rating!r}")
            if rating_col is None:
                raise ArgumentError("min_rating",
                                    "needs rating_col: name the column holding ratings")
        self.files = {k: v for k, v in files.items() if v is not None}
        self.user_col, self.item_col = user_col, item_col
        self.rating_col, self.timestamp_col = rating_col, timestamp_col
        self.min_rating = None if min_rating is None else float(min_rating)

    @abstractmethod
    def columns(self, path: Path) -> list[str]:
        """The column names of a file (reading as little as possible)."""

    @abstractmethod
    def read(self, path: Path, columns: list[str] | None) -> pd.DataFrame:
        """The named columns (all if None) of a file."""

    def rows_text(self, positions: np.ndarray) -> str:
        """Where 0-based data rows are in the file, for a message."""
        return rows_text(positions)

    def typed_ids(self, col: pd.Series) -> pd.Series:
        """Ids as the format gives them (a text format decides their type here)."""
        return col

    def interaction_files(self) -> list[tuple[str, Path]]:
        """Every interaction file, with the option that names it, in reading order."""
        return [(key, path) for key in SOURCES if key in self.files
                for path in self.sources(key)]

    def sources(self, key: str) -> list[Path]:
        """The files option ``key`` names: the file, or the data files of the folder."""
        path = Path(self.files[key]).expanduser()
        if not path.is_dir():
            return [self._existing(key)]
        found = folder_files(path)
        if not found:
            raise DataError(f"{self.name} dataset {key}: {path} is a folder without data "
                            "files (names that start with '.' or '_' are skipped); point "
                            f"{key}: at a {self.kind} file or a folder of them")
        for file in found:
            what = not_a_file(file)
            if what is not None:
                raise DataError(f"{self.name} dataset {key}: {file} in {path} {what}; "
                                f"remove it from the folder, or fix {key}: in the config")
        self.check_alike(key, found)
        return found

    def check_alike(self, key: str, paths: list[Path]) -> None:
        """Raise ``DataError`` when the files of one folder cannot be one table."""

    def load(self) -> RawData:
        parts = [key for key in SOURCES if key in self.files]
        frames = []
        for key in parts:
            frame = self._interactions(key)
            if key != "path":
                frame[SPLIT] = key
            frames.append(frame)
        inter = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        for col in (USER, ITEM):
            inter[col] = self.typed_ids(inter[col])
        dropped = {}
        if self.min_rating is not None:
            keep = inter[RATING] >= self.min_rating
            dropped["rated below min_rating"] = int((~keep).sum())
            inter = inter[keep].reset_index(drop=True)
        logger.info("%s: %d interactions from %s", self.name, len(inter), ", ".join(parts))
        return RawData(
            interactions=inter,
            user_features=self._features("user_features", self.user_col),
            item_features=self._features("item_features", self.item_col),
            name=self.name,
            dropped=dropped,
        )

    def _interactions(self, key: str) -> pd.DataFrame:
        wanted = {USER: self.user_col, ITEM: self.item_col, RATING: self.rating_col,
                  TIMESTAMP: self.timestamp_col}
        wanted = {k: v for k, v in wanted.items() if v is not None}
        frames = [self._file_interactions(key, path, wanted) for path in self.sources(key)]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def _file_interactions(self, key: str, path: Path, wanted: dict[str, str]) -> pd.DataFrame:
        self._require(path, key, list(dict.fromkeys(wanted.values())))
        df = self._read_rows(path, key, list(dict.fromkeys(wanted.values())))
        for col in (self.user_col, self.item_col):
            empty = np.flatnonzero(df[col].isna().to_numpy())
            if len(empty):
                raise DataError(f"{self.name} dataset {key}: {path} has no {col} on "
                                f"{len(empty)} of {len(df)} rows ({self.rows_text(empty)}); "
                                "every interaction needs both ids: fill or drop those rows")
        out = pd.DataFrame({new: df[old].to_numpy() for new, old in wanted.items()})
        if RATING in out.columns:
            out[RATING] = numeric(df[self.rating_col], path)
        if TIMESTAMP in out.columns:
            out[TIMESTAMP] = seconds(df[self.timestamp_col], path)
        return out

    def _features(self, key: str, id_col: str) -> pd.DataFrame | None:
        if key not in self.files:
            return None
        frames = []
        for path in self.sources(key):
            self._require(path, key, [id_col])
            frames.append(self._read_rows(path, key, None))
        df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        df[id_col] = self.typed_ids(df[id_col])
        return df.set_index(id_col)

    def _existing(self, key: str) -> Path:
        path = Path(self.files[key]).expanduser()
        what = not_a_file(path)
        if what is not None:
            raise DataError(f"{self.name} dataset {key}: {path} {what}; fix {key}: in the "
                            f"config")
        return path

    def _require(self, path: Path, key: str, needed: list[str]) -> None:
        try:
            have = self.columns(path)
        except READ_ERRORS as exc:
            raise self._unreadable(path, key, exc) from exc
        if not have:
            raise DataError(f"{self.name} dataset {key}: {path} is empty (no header, no rows); "
                            f"point {key}: at a file with data")
        for col in needed:
            if col not in have:
                sep = separator_hint(have, getattr(self, "sep", ",")) if self.kind == "CSV" \
                    else None
                fix = (f"its header is one column that holds '{sep}': set the dataset's sep: "
                       f"\"{sep}\"" if sep else "set the matching *_col option to one of them")
                raise DataError(
                    f"{self.name} dataset {key}: column '{col}' is not in {path} (columns: "
                    f"{', '.join(map(str, have)) or 'none'}); {fix}")

    def _read_rows(self, path: Path, key: str, columns: list[str] | None) -> pd.DataFrame:
        try:
            df = self.read(path, columns)
        except READ_ERRORS as exc:
            raise self._unreadable(path, key, exc) from exc
        if len(df) == 0:
            raise DataError(f"{self.name} dataset {key}: {path} has no rows; point {key}: at a "
                            f"file with data")
        problems = self.file_problems(path, df)
        if problems:
            raise DataError(f"{self.name} dataset {key}: {path}: " + "; ".join(problems))
        return df

    def _unreadable(self, path: Path, key: str, exc: BaseException) -> DataError:
        return DataError(f"{self.name} dataset {key}: cannot read {path} as {self.kind} "
                         f"({exc}); check that the file is a valid {self.kind}")

    def file_problems(self, path: Path, frame: pd.DataFrame) -> list[str]:
        """What is wrong with a file that was read (its header, its id columns)."""
        return []


class ParquetDataset(TabularDataset):
    """Interactions from Parquet files."""

    name = "parquet"
    kind = "Parquet"

    def columns(self, path: Path) -> list[str]:
        return list(pq.read_schema(path).names)

    def read(self, path: Path, columns: list[str] | None) -> pd.DataFrame:
        return pd.read_parquet(path, columns=columns)

    def _unreadable(self, path: Path, key: str, exc: BaseException) -> DataError:
        what = not_parquet(path)
        if what is not None:
            return DataError(f"{self.name} dataset {key}: {path} {what}")
        return super()._unreadable(path, key, exc)

    def file_problems(self, path: Path, frame: pd.DataFrame) -> list[str]:
        return nested_id_types(pq.read_schema(path), [self.user_col, self.item_col])

    def check_alike(self, key: str, paths: list[Path]) -> None:
        """Parquet keeps each file's id types: a folder whose files type an id column
        differently would make ``37`` and ``"37"`` two ids."""
        first: dict[str, tuple[Path, object]] = {}
        for path in paths:
            try:
                schema = pq.read_schema(path)
            except READ_ERRORS:
                continue  # reading it says what is wrong
            for col in (self.user_col, self.item_col):
                if col not in schema.names:
                    continue
                kind = _id_kind(schema.field(col).type)
                seen = first.setdefault(col, (path, kind))
                if seen[1] != kind:
                    raise DataError(f"{self.name} dataset {key}: column '{col}' is {seen[1]} "
                                    f"in {seen[0]} but {kind} in {path}; write the folder's "
                                    "files with one type for each id column")


def _id_kind(kind: pa.DataType) -> object:
    """An id column's type as far as ids go: text in any Arrow layout is text."""
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind) or \
        pa.types.is_string_view(kind)
    return "text" if text else kind


_PLAIN_INTEGER = r"-?(?:0|[1-9][0-9]{0,17})"


def plain_integers(col: pd.Series) -> pd.Series:
    """Text ids that are all plain integers as int64; anything else as it is."""
    if col.dtype != object and not pd.api.types.is_string_dtype(col):
        return col
    text = col.astype("string")
    if text.notna().all() and text.str.fullmatch(_PLAIN_INTEGER).all():
        return text.astype(np.int64)
    return col


def _check_columns(user_col: str, item_col: str, rating_col: str | None,
                   timestamp_col: str | None) -> None:
    named = {"user_col": user_col, "item_col": item_col, "rating_col": rating_col,
             "timestamp_col": timestamp_col}
    for key, value in named.items():
        if value is None and key in ("rating_col", "timestamp_col"):
            continue
        if not isinstance(value, str) or not value:
            raise ArgumentError(key, f"must be a non-empty column name, got {value!r}")
    if user_col == item_col:
        raise ArgumentError("item_col", f"must differ from user_col, both are '{user_col}'")


def __getattr__(name: str) -> type:
    """``CsvDataset`` from here too, where plugins imported it before it moved to
    ``raytrec.data.delimited`` (imported late: that module builds on this one)."""
    if name == "CsvDataset":
        from raytrec.data.delimited import CsvDataset

        return CsvDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
