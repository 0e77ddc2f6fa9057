"""Session datasets: click streams keyed by session, each event with its time.

Each returns ``RawData`` whose ``user`` column is the session id (a session is the query, as a
user is for the user-item models) beside ``item`` and ``timestamp`` (Unix seconds).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pandas as pd

from raytrec.api import (
    ITEM,
    TIMESTAMP,
    USER,
    ArgumentError,
    CsvDataset,
    DataError,
    Dataset,
    ParquetDataset,
    RawData,
)
from raytrec.data.movielens import MovieLens100K, default_cache_dir
from raytrec_gru4rec.sessions import SESSION, TIME, sessionize
from raytrec_gru4rec.yoochoose import fetch_sdist, read_sample


def _raw(events: pd.DataFrame, name: str, dropped: dict[str, int] | None = None) -> RawData:
    frame = events.rename(columns={SESSION: USER, TIME: TIMESTAMP})[[USER, ITEM, TIMESTAMP]]
    return RawData(interactions=frame.reset_index(drop=True), name=name, dropped=dropped or {})


class SessionsFile(Dataset):
    """Click events from a CSV or Parquet file, one row per event, read by raytrec's ``csv`` /
    ``parquet`` datasets with the session as the user (their id typing and error messages).

    Args:
        path: the ``.csv`` or ``.parquet`` file.
        session_col, item_col, time_col: its columns of session id, item id and event time
            (numbers in seconds, or dates and date-times).
    """

    path_args: ClassVar[tuple[str, ...]] = ("path",)

    def __init__(self, path: str, session_col: str = "session_id", item_col: str = "item_id",
                 time_col: str = "timestamp") -> None:
        self.path, self.cols = path, (session_col, item_col, time_col)

    def load(self) -> RawData:
        path = Path(self.path)
        reader = {".csv": CsvDataset, ".parquet": ParquetDataset}.get(path.suffix)
        if reader is None:
            raise DataError(f"sessions file {path}: give a .csv or .parquet file")
        session, item, time = self.cols
        raw = reader(path=self.path, user_col=session, item_col=item, timestamp_col=time).load()
        raw.name = f"sessions:{path.name}"
        return raw


class YoochooseSample(Dataset):
    """The 1,000-session Yoochoose sample of the ``transformers4rec==23.12.0`` sdist
    (``raytrec_gru4rec.yoochoose``).

    Args:
        path: the sdist or its ``data.parquet``; by default the sdist, downloaded once into
            the cache.
        cache_dir: where the sdist is kept (default: raytrec's cache, ``$RAYTREC_CACHE_DIR``).
    """

    path_args: ClassVar[tuple[str, ...]] = ("path", "cache_dir")

    def __init__(self, path: str | None = None, cache_dir: str | None = None) -> None:
        self.path, self.cache_dir = path, cache_dir

    def load(self) -> RawData:
        if self.path is not None:
            source = Path(self.path)
            if not source.is_file():
                raise DataError(f"Yoochoose sample {source} does not exist")
        else:
            cache = Path(self.cache_dir).expanduser() if self.cache_dir else default_cache_dir()
            source = fetch_sdist(cache)
        return _raw(read_sample(source), "yoochoose-sample")


class MovieLensSessions(Dataset):
    """MovieLens-100K users' rating timelines cut into sessions where two ratings are more
    than ``gap_hours`` apart (ratings come in bursts: a user rates a batch of films at once).

    Args:
        gap_hours: the largest gap inside one session.
        path, cache_dir: as for ``movielens-100k``.
    """

    path_args: ClassVar[tuple[str, ...]] = ("path", "cache_dir")

    def __init__(self, gap_hours: float = 1.0, path: str | None = None,
                 cache_dir: str | None = None) -> None:
        if not gap_hours > 0:
            raise ArgumentError("gap_hours", f"must be > 0, got {gap_hours}")
        self.gap_hours = gap_hours
        self.source = MovieLens100K(path=path, cache_dir=cache_dir)

    def load(self) -> RawData:
        ratings = self.source.load().interactions
        events = sessionize(ratings, USER, self.gap_hours * 3600.0)
        return _raw(events, "movielens-100k-sessions")
