"""``raytrec recommend``: top-k items for users of a finished run or of an export of it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from raytrec.config.run_config import ComponentSpec
from raytrec.data.store import UserItems
from raytrec.distance import distance_named
from raytrec.errors import RaytrecError, RunDirError
from raytrec.plugins import get_registry
from raytrec.retrievers import Retriever
from raytrec.serve.export import MANIFEST, read_manifest
from raytrec.serve.integrity import AGAIN, check_counts, check_files
from raytrec.serve.vectors import Vectors

CHUNK = 2048  # users searched at once


@dataclass
class Source:
    """The vectors and the built index recommendations come from."""

    vectors: Vectors
    retriever: Retriever
    retriever_name: str
    run_dir: Path | None = None  # a run's (with its model), not an export's


def open_source(path: Path) -> Source:
    """A run directory (its retriever built over its item vectors) or an export directory
    (its saved index loaded)."""
    path = Path(path)
    if (path / MANIFEST).is_file():
        manifest = read_manifest(path)
        check_files(path, manifest)
        try:
            distance = distance_named(manifest["distance"])
        except ValueError as exc:
            raise RunDirError(f"the index in {path} cannot be loaded ({exc}); {AGAIN}") \
                from None
        vectors = Vectors.from_export(path, distance)
        check_counts(path, manifest, vectors.num_users, vectors.num_items)
        retriever = get_registry().build("retriever",
                                         ComponentSpec.from_dict(manifest["retriever"]))
        try:
            retriever.load(path, manifest["index"], vectors.items, vectors.distance)
        except (RuntimeError, ValueError, OSError) as exc:  # FAISS says RuntimeError
            cause = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
            raise RunDirError(f"the index in {path} cannot be loaded ({cause}); {AGAIN}") \
                from None
        return Source(vectors, retriever, manifest["retriever"]["name"])
    if (path / "config.yaml").is_file():
        from raytrec.run.job import load_job

        config = load_job(path).config
        vectors = Vectors.from_run(path, unfinished=True)
        retriever = get_registry().build("retriever", config.retriever)
        retriever.build(vectors.items, vectors.distance)
        return Source(vectors, retriever, config.retriever.name, path)
    raise RunDirError(f"{path} is neither a run directory (no config.yaml) nor an export "
                      f"(no {MANIFEST}); give a directory made by raytrec train or "
                      "raytrec export")


def recommend(source: Source, user_ids: list[str], k: int, include_seen: bool = False,
              new_users: NewUsers | None = None) -> pd.DataFrame:
    """One row per (user, rank): ``user``, ``rank`` (1 = best), ``item``, ``score`` and
    ``title`` where the data has titles; users in the order given. Users outside the run
    are served from their rows of ``new_users`` (they have seen nothing)."""
    vectors = source.vectors
    if k < 1 or k > vectors.num_items:
        raise RaytrecError(f"-k {k}: give 1 <= k <= {vectors.num_items} (the catalogue)")
    users = vectors.find_users(user_ids)
    unknown = [u for u, i in zip(user_ids, users, strict=True) if i < 0]
    if unknown and new_users is not None:
        unknown = [u for u in unknown if str(u) not in new_users.rows.index]
    if unknown:
        raise vectors.unknown_users(unknown)
    known = users >= 0
    queries = np.zeros((len(users), vectors.dim), np.float32)
    queries[known] = vectors.users[users[known]]
    # Original ids as the run has them; as text when some users are new (ids from a file).
    ids = vectors.user_ids[np.maximum(users, 0)] if known.all() else \
        np.array([str(u) for u in user_ids], dtype=object)
    seen = vectors.seen if not include_seen else _nothing(vectors.num_users)
    top = np.empty((len(users), k), np.int64)
    top[known] = _search(source.retriever, queries[known], k, users[known], seen)
    if not known.all():  # served from features; they have seen nothing
        assert new_users is not None
        cold = np.flatnonzero(~known)
        rows = new_users.rows.loc[[str(user_ids[i]) for i in cold]]
        queries[cold] = new_users.queries(rows)
        top[cold] = _search(source.retriever, queries[cold], k, np.arange(len(cold)),
                            _nothing(len(cold)))
    return _frame(vectors, [(ids, top, _scores(vectors, queries, top))], k)


@dataclass
class NewUsers:
    """Feature rows of users outside the run (indexed by id as text) and what makes their
    query vectors (``FeatureQueries``)."""

    rows: pd.DataFrame
    queries: Callable[[pd.DataFrame], np.ndarray]  # rows -> (len(rows), D) float32


def _nothing(num_users: int) -> UserItems:
    return UserItems.from_pairs(np.zeros(0, np.int64), np.zeros(0, np.int64), num_users)


def _search(retriever: Retriever, queries: np.ndarray, k: int, users: np.ndarray,
            seen: UserItems) -> np.ndarray:
    parts = [retriever.search_excluding(queries[s:s + CHUNK], k, users[s:s + CHUNK], seen)
             for s in range(0, len(users), CHUNK)]
    return np.concatenate(parts) if parts else np.zeros((0, k), np.int64)


def _scores(vectors: Vectors, queries: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Each recommended item's score in the model's distance (higher is better)."""
    scores = vectors.distance.picked_scores(
        queries.astype(np.float64), vectors.items[np.maximum(top, 0)].astype(np.float64))
    return np.where(top >= 0, scores, np.nan)


def _frame(vectors: Vectors, parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
           k: int) -> pd.DataFrame:
    """Parts of (user ids, top item indexes, their scores) as rows."""
    users = np.concatenate([np.repeat(u, k) for u, _, _ in parts])
    top = np.concatenate([t.reshape(-1) for _, t, _ in parts])
    scores = np.concatenate([s.reshape(-1) for _, _, s in parts])
    kept = top >= 0  # a user who has seen nearly everything gets a shorter list
    columns: dict[str, Any] = {
        "user": users[kept],
        "rank": np.tile(np.arange(1, k + 1), len(users) // k)[kept],
        "item": vectors.item_ids[top[kept]],
        "score": scores[kept].astype(np.float32)}
    if vectors.titles is not None:
        columns["title"] = vectors.titles[top[kept]]
    return pd.DataFrame(columns)


def read_user_ids(path: Path) -> list[str]:
    """User ids from ``path``: a parquet or CSV file with a ``user`` column, or a text file
    with one id per line."""
    path = Path(path)
    if not path.is_file():
        raise RaytrecError(f"--users {path}: no such file; give a file of user ids")
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif path.suffix == ".csv":
            frame = pd.read_csv(path, dtype=str)
        else:
            lines = [line.strip() for line in path.read_text().splitlines()]
            frame = pd.DataFrame({"user": [line for line in lines if line]})
    except (OSError, ValueError) as exc:
        raise RaytrecError(f"--users {path} cannot be read ({str(exc).splitlines()[0]}); give "
                           "a parquet or CSV file with a 'user' column, or one id per line") \
            from None
    if "user" not in frame.columns:
        raise RaytrecError(f"--users {path} has no 'user' column (it has "
                           f"{', '.join(map(str, frame.columns))}); name the id column 'user'")
    ids = [str(u) for u in frame["user"].tolist()]
    if not ids:
        raise RaytrecError(f"--users {path} lists no users")
    return ids


def write_new_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path``, which must not exist: written beside it, then linked into
    place (which fails rather than replace a file that appeared meanwhile)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise RaytrecError(f"--out {path}: {path.parent} is not a directory; choose an --out "
                           "in an existing directory")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_parquet(tmp, index=False)
        os.link(tmp, path)
    except FileExistsError:
        raise RaytrecError(f"--out {path} already exists; raytrec does not replace files it "
                           "did not make: choose another --out or remove it yourself") from None
    finally:
        tmp.unlink(missing_ok=True)
