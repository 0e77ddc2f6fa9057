"""Users outside a run's training data, served from their rows of user features
(``raytrec recommend RUN_DIR --user-features FILE``) by a mapper that reads user features
(``Mapper.new_user_queries``; two-tower)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from raytrec.data.store import read_training_info
from raytrec.errors import RaytrecError
from raytrec.mappers import Mapper
from raytrec.plugins import get_registry
from raytrec.run.job import load_job
from raytrec.run.trained import load_trained

CHUNK = 4096  # feature rows through the tower at once


def read_user_features(path: Path) -> pd.DataFrame:
    """``path`` (parquet, or CSV without list columns) indexed by its ``user`` column, as
    text: the other columns are the features, named as in the dataset's user feature table."""
    path = Path(path)
    if not path.is_file():
        raise RaytrecError(f"--user-features {path}: no such file; give a parquet or CSV file "
                           "with a 'user' column and the user feature columns")
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise RaytrecError(f"--user-features {path} cannot be read "
                           f"({str(exc).splitlines()[0]}); give a parquet or CSV file") \
            from None
    if "user" not in frame.columns:
        raise RaytrecError(f"--user-features {path} has no 'user' column (it has "
                           f"{', '.join(map(str, frame.columns))}); name the id column 'user'")
    ids = frame["user"].astype(str)
    if ids.duplicated().any():
        twice = ids[ids.duplicated()].iloc[0]
        raise RaytrecError(f"--user-features {path} has more than one row for user {twice!r}; "
                           "keep one row per user")
    return frame.drop(columns="user").set_axis(pd.Index(ids, name="user"))


class FeatureQueries:
    """Query vectors from feature rows (read from ``path``), by the run's trained mapper,
    which is loaded on first use: a request whose users are all in the run never reads it."""

    def __init__(self, run_dir: Path, path: Path) -> None:
        self.run_dir, self.path = Path(run_dir), Path(path)
        self.mapper: Mapper | None = None

    def _load(self) -> Mapper:
        if self.mapper is None:
            job = load_job(self.run_dir)
            self.name = job.config.mapper.name
            mapper = get_registry().build("mapper", job.config.mapper)
            self.mapper = load_trained(self.run_dir, mapper, read_training_info(job.data_dir))
        return self.mapper

    @torch.no_grad()
    def __call__(self, rows: pd.DataFrame) -> np.ndarray:
        """``(len(rows), D)`` float32 query vectors of ``rows``."""
        mapper = self._load()
        try:
            parts = [mapper.new_user_queries(rows.iloc[s:s + CHUNK].reset_index(drop=True))
                     for s in range(0, len(rows), CHUNK)]
        except ValueError as exc:
            raise RaytrecError(f"--user-features {self.path}: {self.run_dir}'s mapper "
                               f"{self.name!r} cannot serve users from features: {exc}") \
                from None
        return torch.cat(parts).float().cpu().numpy()
