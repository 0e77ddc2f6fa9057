"""The vectors and ids a finished run serves from: read from its run directory or from an
export of it (``raytrec.serve.export``), the same way."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from raytrec.data.store import UserItems, read_pairs
from raytrec.distance import Distance, distance_named
from raytrec.errors import RaytrecError, RunDirError
from raytrec.scratch import temp_prefix
from raytrec.serve.integrity import AGAIN
from raytrec.tasks.outputs import EMBEDDING_FILES as EMBEDDINGS

if TYPE_CHECKING:
    from raytrec.run.job import Job

T = TypeVar("T")


@dataclass
class Vectors:
    """Item and user vectors in index order, the original ids of both, the items each user
    saw in training, and item titles where the data has them."""

    distance: Distance
    items: np.ndarray  # (I, D) float32
    users: np.ndarray  # (U, D) float32
    item_ids: np.ndarray  # (I,) original ids, index order
    user_ids: np.ndarray  # (U,)
    seen: UserItems
    titles: np.ndarray | None  # (I,) or None

    @property
    def num_items(self) -> int:
        return len(self.items)

    @property
    def num_users(self) -> int:
        return len(self.users)

    @property
    def dim(self) -> int:
        return self.items.shape[1]

    @classmethod
    def from_run(cls, run_dir: Path, unfinished: bool = False) -> Vectors:
        """The vectors of a finished run; with ``unfinished``, of a run that is training or
        was interrupted too, from the best model of its newest complete checkpoint."""
        from raytrec.plugins import get_registry
        from raytrec.run.job import load_job

        run_dir = Path(run_dir)
        job = load_job(run_dir)
        task = job.config.task.name
        if not get_registry().build("task", job.config.task).servable:
            raise RunDirError(f"{run_dir} trained the '{task}' task, whose queries are not user "
                              "ids: raytrec export and recommend serve user-item runs; score "
                              f"this one with raytrec evaluate {run_dir}")
        files = [run_dir / name for name in EMBEDDINGS.values()]
        missing = [f for f in files if not f.is_file()]
        if missing and not unfinished:
            raise RunDirError(f"{missing[0]} is missing: the run has not finished; use "
                              f"raytrec train --resume {run_dir}")
        users, items = read_pairs(job.data_dir, "train")
        distance = distance_named(job.config.mapper.kwargs["distance"])
        if missing:  # training or interrupted: its best model so far, from its checkpoint
            with tempfile.TemporaryDirectory(prefix=temp_prefix("vectors")) as tmp:
                _embed(job, Path(tmp))
                return cls._read(Path(tmp), Path(job.data_dir), distance, users, items)
        return cls._read(run_dir, Path(job.data_dir), distance, users, items)

    @classmethod
    def from_export(cls, directory: Path, distance: Distance) -> Vectors:
        path = directory / "seen.parquet"
        seen = _table(path, ["user", "item"])
        users, items = seen["user"].to_numpy(), seen["item"].to_numpy()
        vectors = cls._read(directory, directory, distance, users, items)
        # An export made before its manifest kept digests: its files may not belong together.
        for what, ids, count in (("user", users, vectors.num_users),
                                 ("item", items, vectors.num_items)):
            if len(ids) and (ids.min() < 0 or ids.max() >= count):
                raise RunDirError(f"{path} names {what} index {ids.max()}, but the export "
                                  f"holds {count} {what}s: its files come from different "
                                  f"exports; {AGAIN}")
        return vectors

    @classmethod
    def _read(cls, vectors_dir: Path, ids_dir: Path, distance: Distance, seen_users: np.ndarray,
              seen_items: np.ndarray) -> Vectors:
        users, user_ids = _matrix(vectors_dir / EMBEDDINGS["user"])
        items, item_ids = _matrix(vectors_dir / EMBEDDINGS["item"])
        _check_ids(ids_dir / "users.parquet", len(users))
        _check_ids(ids_dir / "items.parquet", len(items))
        features = ids_dir / "item_features.parquet"
        titles = None
        if features.is_file() and "title" in _parquet(features, pq.read_schema).names:
            table = _table(features, ["index", "title"]).to_pandas()
            titles = table.set_index("index")["title"].reindex(range(len(items))).to_numpy()
        return cls(distance, items, users, item_ids, user_ids,
                   UserItems.from_pairs(seen_users, seen_items, len(users)), titles)

    def seen_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        counts = self.seen.counts()
        return np.repeat(np.arange(len(counts)), counts), self.seen.indices

    def find_users(self, ids: list[str]) -> np.ndarray:
        """The indexes of original user ids (given as text); ``-1`` for an unknown id."""
        lookup = pd.Index(self.user_ids.astype(str))
        return lookup.get_indexer(pd.Index([str(i) for i in ids])).astype(np.int64)

    def unknown_users(self, ids: list[str]) -> RaytrecError:
        """The error for ``ids`` that are not among the run's users (and not served from
        features)."""
        examples = ", ".join(str(u) for u in self.user_ids[:3])
        return RaytrecError(
            f"user {', '.join(map(repr, ids[:3]))} is not among the run's {self.num_users} "
            f"users (ids such as {examples}); users outside the training data have no "
            "vector: train again with them, or, for a model that reads user features "
            "(two-tower), give their feature rows with --user-features FILE")


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise RunDirError(f"{path} is missing: not a complete raytrec export; export the run "
                          "again with raytrec export RUN_DIR --out DIR")
    return path


def _parquet(path: Path, read: Callable[[Path], T]) -> T:
    """``read(path)``, or RunDirError naming a file that is not Parquet (damaged, replaced)."""
    try:
        return read(_existing(path))
    except (OSError, pa.ArrowException) as exc:
        cause = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
        raise RunDirError(f"{path} cannot be read as Parquet ({cause}); {AGAIN}") from None


def _table(path: Path, columns: list[str]) -> pa.Table:
    table = _parquet(path, pq.read_table)
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise RunDirError(f"{path} has no '{missing[0]}' column (it has "
                          f"{', '.join(table.column_names)}); {AGAIN}")
    return table.select(columns)


def _check_ids(path: Path, count: int) -> None:
    """An id map (``users.parquet``, ``items.parquet``) has a row per vector."""
    if path.is_file() and (rows := _parquet(path, pq.read_metadata).num_rows) != count:
        raise RunDirError(f"{path} has {rows} ids, but there are {count} vectors: its files "
                          f"come from different exports; {AGAIN}")


def _matrix(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The ``embedding`` column of ``path`` as (N, D) float32 in index order, and the ids."""
    table = _table(path, ["index", "id", "embedding"]).sort_by("index")
    column = table.column("embedding").combine_chunks()
    try:
        vectors = column.flatten().to_numpy().reshape(len(column), -1).astype(np.float32)
    except (ValueError, pa.ArrowException):  # vectors of different lengths, or not numbers
        raise RunDirError(f"{path} holds no (N, D) matrix of numbers in its embedding column; "
                          f"{AGAIN}") from None
    return vectors, table.column("id").to_numpy()


def _embed(job: Job, out: Path) -> None:
    """Write the embeddings of ``job``'s best model so far into ``out``."""
    import torch

    from raytrec.plugins import get_registry
    from raytrec.run.trained import load_trained

    task = get_registry().build("task", job.config.task)
    info = task.training_info(job.data_dir)
    mapper = load_trained(job.run_dir, get_registry().build("mapper", job.config.mapper), info)
    task.write_outputs(out, job.data_dir, mapper, torch.device("cpu"))
