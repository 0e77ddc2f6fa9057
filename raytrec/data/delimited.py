"""Interactions from CSV files (``raytrec.data.tabular`` holds what CSV and Parquet share)."""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd

from raytrec.data.base import rows_text
from raytrec.data.files import (
    compressed_problem,
    compression,
    header_problems,
    not_text,
    text_format_problem,
)
from raytrec.data.tabular import TabularDataset, plain_integers
from raytrec.errors import ArgumentError, DataError


class CsvDataset(TabularDataset):
    """Interactions from CSV (or other delimited text) files, plain or compressed (gzip,
    bz2, xz, zstd, zip: known by the file's first bytes, whatever its name).

    Args:
        sep: the field separator, e.g. ``"\\t"`` for TSV.
        encoding: the files' text encoding, e.g. ``latin-1`` or ``cp1252``.
        (others as in :class:`TabularDataset`)
    """

    name = "csv"
    kind = "CSV"

    def __init__(
        self, path: str | None = None, train: str | None = None, valid: str | None = None,
        test: str | None = None, user_col: str = "user_id", item_col: str = "item_id",
        rating_col: str | None = None, timestamp_col: str | None = None,
        min_rating: float | None = None, user_features: str | None = None,
        item_features: str | None = None, sep: str = ",", encoding: str = "utf-8",
    ) -> None:
        if not isinstance(sep, str) or not sep:
            raise ArgumentError("sep",
                                f"must be a non-empty string such as ',' or '\\t', got {sep!r}")
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError):
            raise ArgumentError("encoding",
                                f"must be a text encoding Python knows, such as utf-8 or "
                                f"latin-1, got {encoding!r}") from None
        super().__init__(
            path=path, train=train, valid=valid, test=test, user_col=user_col,
            item_col=item_col, rating_col=rating_col, timestamp_col=timestamp_col,
            min_rating=min_rating, user_features=user_features, item_features=item_features,
        )
        self.sep, self.encoding = sep, encoding

    def _options(self, path: Path) -> dict:
        return {"sep": self.sep, "encoding": self.encoding,
                "compression": compression(path) or "infer"}

    def columns(self, path: Path) -> list[str]:
        try:
            return [str(c) for c in pd.read_csv(path, nrows=0, **self._options(path)).columns]
        except pd.errors.EmptyDataError:
            return []

    def read(self, path: Path, columns: list[str] | None) -> pd.DataFrame:
        # Ids as text: a number parser would make "037" and "37" one id.
        ids = {c: str for c in (self.user_col, self.item_col)}
        return pd.read_csv(path, usecols=columns, dtype=ids, **self._options(path))

    def _unreadable(self, path: Path, key: str, exc: BaseException) -> DataError:
        what = text_format_problem(path, self.encoding) or compressed_problem(path, exc)
        if what is not None:
            return DataError(f"{self.name} dataset {key}: {path} {what}")
        if isinstance(exc, UnicodeDecodeError):
            where = not_text(path, self.encoding, compression(path))
            if where is not None:
                return DataError(f"{self.name} dataset {key}: {path} {where}; set the "
                                 "dataset's encoding: to the file's (latin-1, cp1252, ...), or "
                                 "save it as UTF-8")
        return super()._unreadable(path, key, exc)

    def file_problems(self, path: Path, frame: pd.DataFrame) -> list[str]:
        header = pd.read_csv(path, header=None, nrows=1, dtype=str, **self._options(path))
        return header_problems([str(v) for v in header.iloc[0]], frame,
                               [self.user_col, self.item_col])

    def rows_text(self, positions: np.ndarray) -> str:
        return rows_text(positions, first=2, word="lines")  # line 1 is the header

    def typed_ids(self, col: pd.Series) -> pd.Series:
        return plain_integers(col)
