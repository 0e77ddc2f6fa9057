"""The session task's prepared data: what ``raytrec train`` writes into ``<run>/data``.

``train|valid|test.parquet``: one row per event, int64 ``session`` (numbered within the
split, in order of first event), ``item`` (index into the catalogue), float64 ``timestamp``;
``items.parquet`` (index -> original id, the training sessions' items), ``item_counts.npy``
(training events per item) and ``info.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from raytrec.api import ITEM, SPLITS, TIMESTAMP, USER, DataError, RawData
from raytrec_gru4rec.sessions import SESSION, TIME, Sessions, SplitSessions, split_by_time

TASK = "session"


def prepare_sessions(raw: RawData, test_days: float, valid_days: float,
                     out_dir: Path) -> dict[str, Any]:
    """Split ``raw`` (the user column is the session) by time and write ``out_dir``; returns
    ``info.json``'s content."""
    frame = raw.interactions
    missing = [c for c in (USER, ITEM, TIMESTAMP) if c not in frame.columns]
    if missing:
        raise DataError(f"dataset '{raw.name}' has no {' or '.join(missing)} column; the "
                        "session task needs a session (user), item and timestamp per event")
    if frame[TIMESTAMP].isna().any():
        rows = int(frame[TIMESTAMP].isna().sum())
        raise DataError(f"dataset '{raw.name}': {rows} events have no timestamp; the session "
                        "task orders events and splits by time: fill or drop them")
    events = frame.rename(columns={USER: SESSION, TIMESTAMP: TIME})[[SESSION, ITEM, TIME]]
    split = split_by_time(events, test_days, valid_days)
    for name in ("train", "test"):
        if len(getattr(split, name)) == 0:
            raise DataError(f"dataset '{raw.name}': the time split leaves no {name} session "
                            f"of two or more events (task.test_days {test_days}, "
                            f"task.valid_days {valid_days}); change them")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in SPLITS:
        _write(out_dir / f"{name}.parquet", getattr(split, name))
    pq.write_table(pa.table({"index": np.arange(len(split.items), dtype=np.int64),
                             "id": split.items.to_numpy()}), out_dir / "items.parquet")
    counts = np.bincount(split.train.items, minlength=len(split.items)).astype(np.int64)
    np.save(out_dir / "item_counts.npy", counts)
    info = _info(raw, split)
    (out_dir / "info.json").write_text(json.dumps(info, indent=2))
    return info


def _info(raw: RawData, split: SplitSessions) -> dict[str, Any]:
    parts = {name: getattr(split, name) for name in SPLITS}
    return {
        "task": TASK,
        "dataset": raw.name,
        "num_users": len(split.train),  # the sessions are the queries
        "queries": "training sessions",
        "num_items": len(split.items),
        "num_interactions": {n: len(s.items) for n, s in parts.items()},
        "sessions": {n: len(s) for n, s in parts.items()},
        "transitions": {n: s.transitions for n, s in parts.items()},
        "columns": [SESSION, ITEM, TIMESTAMP],
        "interactions_read": len(raw.interactions) + sum(raw.dropped.values()),
        "dropped": {**raw.dropped, **split.dropped},
        "features": {},
    }


def _write(path: Path, sessions: Sessions) -> None:
    session = np.repeat(np.arange(len(sessions), dtype=np.int64), sessions.lengths)
    pq.write_table(pa.table({SESSION: session, ITEM: sessions.items,
                             TIMESTAMP: sessions.times}), path)


def read_sessions(data_dir: Path, split: str) -> Sessions:
    path = Path(data_dir) / f"{split}.parquet"
    if not path.is_file():
        raise DataError(f"{path} is missing: the data directory is incomplete; prepare it "
                        "again")
    table = pq.read_table(path).to_pandas()
    lengths = np.bincount(table[SESSION].to_numpy()) if len(table) else np.zeros(0, np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return Sessions(offsets, table[ITEM].to_numpy(np.int64),
                    table[TIMESTAMP].to_numpy(np.float64))


def read_info_json(data_dir: Path) -> dict[str, Any]:
    return json.loads((Path(data_dir) / "info.json").read_text())


def catalogue(data_dir: Path) -> pd.DataFrame:
    return pq.read_table(Path(data_dir) / "items.parquet").to_pandas()
