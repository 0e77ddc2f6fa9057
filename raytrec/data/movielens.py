"""MovieLens-100K: 100,000 ratings by 943 users of 1,682 movies, with item and user features.

Two sources give the same tables:

- by default, the copy shipped in the ``recbole==1.2.1`` wheel on PyPI, fetched once with
  ``pip download`` into the raytrec cache and read straight from the wheel (recbole is never
  installed or imported);
- ``path:`` a local GroupLens ``ml-100k`` folder (``u.data`` and optionally ``u.item``,
  ``u.genre``, ``u.user``).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from raytrec.data.base import ITEM, RATING, TIMESTAMP, USER, Dataset, RawData
from raytrec.errors import ArgumentError, DataError

logger = logging.getLogger(__name__)

NAME = "movielens-100k"
RECBOLE = "recbole==1.2.1"
WHEEL_NAME = "recbole-1.2.1-py3-none-any.whl"
_MEMBER = "recbole/dataset_example/ml-100k/ml-100k.{}"
_PIP_TIMEOUT_S = 600

# Order of the genre flag columns in GroupLens u.item, for folders without u.genre.
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)
ITEM_COLUMNS = ("title", "year", "genres")
USER_COLUMNS = ("age", "gender", "occupation", "zip_code")
# GroupLens titles end in the release year, which recbole's copy moved to its own column.
_TITLE_YEAR = re.compile(r"\s*\(\d{4}(?:/[IVX]+)?\)\s*$")


def default_cache_dir() -> Path:
    """``$RAYTREC_CACHE_DIR``, else ``$XDG_CACHE_HOME/raytrec``, else ``~/.cache/raytrec``."""
    if os.environ.get("RAYTREC_CACHE_DIR"):
        return Path(os.environ["RAYTREC_CACHE_DIR"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "raytrec"


class MovieLens100K(Dataset):
    """MovieLens-100K with ``title``/``year``/``genres`` item and demographic user features.

    Args:
        path: a local GroupLens ``ml-100k`` folder; by default the copy in the recbole wheel
            is downloaded once into the cache.
        min_rating: keep only ratings >= this (1..5 stars), e.g. 4 for "liked".
        cache_dir: where the wheel is kept; default ``$RAYTREC_CACHE_DIR``, else
            ``$XDG_CACHE_HOME/raytrec`` or ``~/.cache/raytrec``.
    """

    name = NAME
    path_args = ("path", "cache_dir")

    def __init__(
        self, path: str | None = None, min_rating: float | None = None,
        cache_dir: str | None = None,
    ) -> None:
        for key, value in (("path", path), ("cache_dir", cache_dir)):
            if value is not None and (not isinstance(value, str | os.PathLike) or not str(value)):
                raise ArgumentError(key, f"must be a non-empty path string, got {value!r}")
        if min_rating is not None:
            if isinstance(min_rating, bool) or not isinstance(min_rating, int | float):
                raise ArgumentError("min_rating",
                                    f"must be a number between 0 and 5, got {min_rating!r}")
            if not 0 <= min_rating <= 5:
                raise ArgumentError("min_rating",
                                    f"must be between 0 and 5 (MovieLens ratings are 1-5 stars), "
                                    f"got {min_rating}")
        self.path = path
        self.min_rating = None if min_rating is None else float(min_rating)
        self.cache_dir = cache_dir

    def load(self) -> RawData:
        if self.path is None:
            cache = Path(self.cache_dir).expanduser() if self.cache_dir else default_cache_dir()
            inter, items, users = read_wheel(fetch_wheel(cache))
        else:
            inter, items, users = read_grouplens(Path(self.path).expanduser())
        dropped = {}
        if self.min_rating is not None:
            keep = inter[RATING] >= self.min_rating
            dropped["rated below min_rating"] = int((~keep).sum())
            inter = inter[keep].reset_index(drop=True)
        logger.info("%s: %d interactions, %d users, %d items", NAME, len(inter),
                    inter[USER].nunique(), inter[ITEM].nunique())
        return RawData(interactions=inter, user_features=users, item_features=items, name=NAME,
                       dropped=dropped)


# --- the recbole wheel -------------------------------------------------------------------------


def fetch_wheel(cache: Path) -> Path:
    """The cached recbole wheel, downloaded with pip if it is not there yet."""
    target = cache / WHEEL_NAME
    if target.is_file():
        return target
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".recbole-download-", dir=cache))
    except OSError as exc:
        raise DataError(
            f"cannot create the cache directory {cache} ({exc}); set cache_dir: or "
            f"RAYTREC_CACHE_DIR to a writable folder"
        ) from exc
    try:
        wheel = _pip_download(tmp, cache)
        # A rename within one folder is atomic: the cache never holds a half-written wheel.
        os.replace(wheel, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("cached MovieLens-100K (from %s) at %s", RECBOLE, target)
    return target


def _pip_download(dest: Path, cache: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", RECBOLE, "-d",
           str(dest)]
    logger.info("downloading MovieLens-100K: %s", " ".join(cmd))
    hint = (
        f"set path: to a local GroupLens ml-100k folder (with u.data) instead, or put "
        f"{WHEEL_NAME} into {cache}"
    )
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              timeout=_PIP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DataError(f"downloading {RECBOLE} (it ships MovieLens-100K) failed: {exc}; "
                        f"{hint}") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        cause = detail[-1] if detail else f"exit code {done.returncode}"
        raise DataError(f"downloading {RECBOLE} (it ships MovieLens-100K) with pip failed: "
                        f"{cause}; {hint}")
    wheels = sorted(dest.glob("recbole-1.2.1-*.whl"))
    if not wheels:
        raise DataError(f"pip download of {RECBOLE} produced no wheel in {dest}; {hint}")
    return wheels[0]


def read_wheel(wheel: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Interactions, item features and user features from the recbole wheel."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            inter, items, users = (_read_member(zf, ext) for ext in ("inter", "item", "user"))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DataError(
            f"cannot read MovieLens-100K from {wheel} ({exc}); delete that file so that it "
            f"is downloaded again"
        ) from exc
    where = {ext: f"{wheel}:{_MEMBER.format(ext)}" for ext in ("inter", "item", "user")}
    inter = _interactions(inter, ("user_id", "item_id", "rating", "timestamp"), where["inter"])
    _require(users, ("user_id", *USER_COLUMNS), where["user"])
    users = _users(users.rename(columns={"user_id": "id"}), where["user"])
    return inter, _wheel_items(items, where["item"]), users


def _read_member(zf: zipfile.ZipFile, ext: str) -> pd.DataFrame:
    text = zf.read(_MEMBER.format(ext)).decode("utf-8")
    df = pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False,
                     quoting=csv.QUOTE_NONE)
    # recbole headers carry a type suffix: ``user_id:token``.
    return df.rename(columns=lambda c: c.split(":", 1)[0])


def _wheel_items(df: pd.DataFrame, source: str) -> pd.DataFrame:
    _require(df, ("item_id", "movie_title", "release_year", "class"), source)
    titles = df["movie_title"].to_numpy(dtype=object)
    # The recbole copy misspells GroupLens' "unknown" title of item 267.
    titles = np.where(titles == "unkonwn", "unknown", titles)
    genres = [g.split() for g in df["class"].to_numpy(dtype=object)]
    year = pd.to_numeric(df["release_year"], errors="coerce").to_numpy(dtype=np.float64)
    return _item_table(_ids(df["item_id"], source), titles, year, genres)


# --- a GroupLens folder ------------------------------------------------------------------------


def read_grouplens(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """Interactions and (where the files exist) item and user features of a GroupLens folder."""
    data = folder / "u.data"
    if not data.is_file():
        what = "is not a directory" if not folder.is_dir() else "has no u.data file"
        raise DataError(
            f"MovieLens-100K path {folder} {what}; point path: at the GroupLens ml-100k folder "
            f"(with u.data), or remove path: to download the data"
        )
    raw = _read_table(data, sep="\t")
    if raw.shape[1] != 4:
        raise DataError(f"{data} has {raw.shape[1]} tab-separated columns per row, expected 4 "
                        f"(user, item, rating, timestamp); is this the MovieLens-100K u.data?")
    inter = _interactions(raw.set_axis(["u", "i", "r", "t"], axis=1), ("u", "i", "r", "t"),
                          str(data))
    items = _grouplens_items(folder) if (folder / "u.item").is_file() else None
    users = None
    if (folder / "u.user").is_file():
        users = _users(_read_pipe(folder / "u.user", 5).set_axis(["id", *USER_COLUMNS], axis=1),
                       str(folder / "u.user"))
    return inter, items, users


def _read_table(path: Path, sep: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep=sep, header=None, dtype=str, keep_default_na=False,
                           encoding="latin-1", quoting=csv.QUOTE_NONE)
    except (OSError, ValueError) as exc:  # pandas parser errors are ValueErrors
        raise DataError(f"cannot read {path} ({exc}); is it an unmodified MovieLens-100K "
                        f"file?") from exc


def _read_pipe(path: Path, min_columns: int) -> pd.DataFrame:
    df = _read_table(path, sep="|")
    if df.shape[1] < min_columns:
        raise DataError(f"{path} has {df.shape[1]} '|'-separated columns, expected at least "
                        f"{min_columns}; is this a MovieLens-100K file?")
    return df


def _genre_names(folder: Path, count: int) -> tuple[str, ...]:
    path = folder / "u.genre"
    names = GENRES
    if path.is_file():
        lines = path.read_text(encoding="latin-1").splitlines()
        names = tuple(line.split("|")[0] for line in lines if line.strip())
    if len(names) != count:
        raise DataError(
            f"{folder / 'u.item'} has {count} genre flag columns but {len(names)} genre names "
            f"are known ({path if path.is_file() else 'standard list'}); fix u.item or u.genre"
        )
    return names


def _grouplens_items(folder: Path) -> pd.DataFrame:
    path = folder / "u.item"
    df = _read_pipe(path, 6)
    names = _genre_names(folder, df.shape[1] - 5)
    flags = df.iloc[:, 5:].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy() > 0
    genres = [[names[j] for j in np.flatnonzero(row)] for row in flags]
    titles = df[1].str.replace(_TITLE_YEAR, "", regex=True).to_numpy(dtype=object)
    year = pd.to_numeric(df[2].str.extract(r"(\d{4})\s*$")[0], errors="coerce")
    return _item_table(_ids(df[0], str(path)), titles, year.to_numpy(dtype=np.float64), genres)


# --- shared conversion -------------------------------------------------------------------------


def _require(df: pd.DataFrame, columns: tuple[str, ...], source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{source} has no column {', '.join(missing)} (columns: "
                        f"{', '.join(map(str, df.columns))}); is this MovieLens-100K?")


def _numbers(col: pd.Series, source: str) -> np.ndarray:
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        bad = col[np.isnan(values)].iloc[0]
        raise DataError(f"{source}: column '{col.name}' has a non-numeric value {bad!r}; "
                        f"is the file complete and in MovieLens-100K format?")
    return values


def _ids(col: pd.Series, source: str) -> np.ndarray:
    return _numbers(col, source).astype(np.int64)


def _interactions(df: pd.DataFrame, cols: tuple[str, str, str, str], source: str) -> pd.DataFrame:
    _require(df, cols, source)
    user, item, rating, stamp = cols
    return pd.DataFrame({
        USER: _ids(df[user], source),
        ITEM: _ids(df[item], source),
        RATING: _numbers(df[rating], source),
        TIMESTAMP: _ids(df[stamp], source),
    })


def _item_table(ids: np.ndarray, titles: np.ndarray, year: np.ndarray,
                genres: list[list[str]]) -> pd.DataFrame:
    table = pd.DataFrame({"title": pd.Series(titles, dtype=str), "year": year})
    table["genres"] = pd.Series(genres, dtype=object)
    table.index = pd.Index(ids, name=ITEM)
    return table


def _users(df: pd.DataFrame, source: str) -> pd.DataFrame:
    table = pd.DataFrame({"age": _ids(df["age"], source)})
    for col in USER_COLUMNS[1:]:
        table[col] = pd.Series(df[col].to_numpy(dtype=object), dtype=str)
    table.index = pd.Index(_ids(df["id"], source), name=USER)
    return table
