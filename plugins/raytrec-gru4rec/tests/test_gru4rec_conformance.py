"""The session task and the session datasets pass raytrec.testing's checks of their kinds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from raytrec_gru4rec.datasets import MovieLensSessions, SessionsFile, YoochooseSample
from raytrec_gru4rec.synthetic import SyntheticSessions
from raytrec_gru4rec.task import SessionTask

from raytrec.testing import check_dataset, check_task

DATA = {"num_sessions": 200, "num_items": 60, "mean_length": 6, "follow": 0.9, "days": 10,
        "seed": 0}
TASK = {"test_days": 1, "valid_days": 1}


def test_the_session_task_passes() -> None:
    companions = {"data": {"name": "synthetic-sessions", **DATA},
                  "mapper": {"name": "gru4rec", "hidden": 16, "dropout_hidden": 0.2},
                  "sampler": {"name": "mixed", "num_negatives": 8, "alpha": 0.5},
                  "loss": {"name": "top1-max"},
                  "train": {"batch_size": 16, "optimizer": "adagrad", "lr": 0.1, "threads": 1,
                            "device": "cpu"}}
    check_task(SessionTask, companions, count="events", **TASK)


def events(days: int = 10, per_day: int = 12) -> pd.DataFrame:
    """Bursts of 4 events, an hour and more apart, over ``days`` days."""
    rng = np.random.default_rng(0)
    rows = [(f"s{d}-{b}", int(rng.integers(0, 30)), d * 86_400 + b * 7_200 + e * 60)
            for d in range(days) for b in range(per_day) for e in range(4)]
    return pd.DataFrame(rows, columns=["session_id", "item_id", "timestamp"])


@pytest.mark.parametrize("name", ["synthetic-sessions", "sessions", "movielens-100k-sessions",
                                  "yoochoose-sample"])
def test_the_session_datasets_pass(name: str, tmp_path: Path) -> None:
    task = SessionTask(**TASK)
    if name == "synthetic-sessions":
        check_dataset(SyntheticSessions, task=task, **DATA)
    elif name == "yoochoose-sample":
        check_dataset(YoochooseSample, task=task)  # fetched once into raytrec's cache
    elif name == "sessions":
        events().to_csv(tmp_path / "clicks.csv", index=False)
        check_dataset(SessionsFile, task=task, path=str(tmp_path / "clicks.csv"))
    else:
        folder = tmp_path / "ml-100k"
        folder.mkdir()
        rows = events()
        users = rows["session_id"].str.split("-").str[1]  # a user's bursts, one a day
        lines = [f"{u}\t{i}\t4\t{t}" for u, i, t in zip(users, rows["item_id"],
                                                          rows["timestamp"], strict=True)]
        (folder / "u.data").write_text("\n".join(lines) + "\n")
        check_dataset(MovieLensSessions, task=task, path=str(folder))
