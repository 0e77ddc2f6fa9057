"""Turn a dataset's raw interactions into the prepared layout every worker reads.

``<data_dir>/``: ``train|valid|test.parquet`` (int64 ``user``, ``item`` [+ ``rating``,
``timestamp``]), ``users.parquet`` / ``items.parquet`` (contiguous index -> original id),
``user_features.parquet`` / ``item_features.parquet`` (row i = index i), ``info.json`` and
the training rows per item and per user (``item_counts.npy``, ``user_counts.npy``). The
splits are written in user buckets (``raytrec.data.buckets``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from raytrec.data.base import ITEM, RATING, SPLIT, SPLITS, TIMESTAMP, USER, RawData, rows_text
from raytrec.data.buckets import BucketWriter, buckets_of
from raytrec.data.keys import SHUFFLE, row_keys
from raytrec.data.splits import SplitConfig, split_interactions
from raytrec.errors import DataError

MERGED = "duplicate (user, item) rows merged"
USER_COUNTS = "user_counts.npy"


def prepare(raw: RawData, split: SplitConfig, out_dir: Path) -> dict[str, object]:
    """Map ids, split, and write ``out_dir`` atomically. Returns the ``info.json`` content.

    Rules: a missing user or item id is an error naming the rows; ids are kept as the dataset
    gives them (``"037"`` and ``"37"`` are two ids when the dataset reads them as text); a
    repeated (user, item) pair is one positive, its first record (by timestamp when there is
    one) kept. ``info.json``'s ``dropped`` counts what was left out or merged, by reason.
    """
    df, merged = _checked(raw)
    users, user_ids = pd.factorize(df[USER], sort=True)
    items, item_ids = pd.factorize(df[ITEM], sort=True)
    table = pd.DataFrame({USER: users.astype(np.int64), ITEM: items.astype(np.int64)})
    for col in (RATING, TIMESTAMP):
        if col in df.columns:
            table[col] = df[col].to_numpy(dtype=np.float64)
    if SPLIT in df.columns:
        held = [k for k in ("cold_users", "cold_items") if getattr(split, k)]
        if held:
            raise DataError(f"split.{held[0]} holds rows out of a split raytrec makes, but "
                            f"{raw.name} comes split already (train/valid/test files); give "
                            f"one file (path) for raytrec to split, or drop split.{held[0]}")
        codes = _given_split(df[SPLIT])
    else:
        codes = split_interactions(df, split)
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    counts = np.bincount(table[ITEM].to_numpy()[codes == 0], minlength=len(item_ids))
    user_counts = np.bincount(table[USER].to_numpy()[codes == 0], minlength=len(user_ids))
    # In user buckets (``data.buckets``); train within a bucket in the order of a keyed hash
    # of its rows, valid and test by user. Both orders are a function of the rows alone.
    shuffle = row_keys(split.seed, SHUFFLE, df[USER], df[ITEM])
    columns = {c: str(table[c].dtype) for c in table.columns}
    buckets: dict[str, object] = {}
    for code, name in enumerate(SPLITS):
        picked = np.flatnonzero(codes == code)
        users = table[USER].to_numpy()[picked]
        keys = (shuffle[picked],) if name == "train" else (table[ITEM].to_numpy()[picked],
                                                         users)
        writer = BucketWriter(tmp / f"{name}.parquet", columns)
        writer.write(table.iloc[picked[np.lexsort((*keys, buckets_of(users)))]])
        buckets[name] = writer.close()
        buckets["group_rows"] = writer.group_rows
    _write_ids(tmp / "users.parquet", user_ids)
    _write_ids(tmp / "items.parquet", item_ids)
    features = {kind: found for kind, frame, ids in (("user", raw.user_features, user_ids),
                                                     ("item", raw.item_features, item_ids))
                if (found := _write_features(tmp / f"{kind}_features.parquet", frame, ids))}
    info = {
        "dataset": raw.name,
        "num_users": len(user_ids),
        "num_items": len(item_ids),
        "num_interactions": {n: int((codes == c).sum()) for c, n in enumerate(SPLITS)},
        "columns": list(table.columns),
        "interactions_read": len(raw.interactions) + sum(raw.dropped.values()),
        "dropped": {**raw.dropped, MERGED: merged},
        "features": features,
        "buckets": buckets,
    }
    return finish(tmp, out_dir, info, counts, user_counts)


def finish(tmp: Path, out_dir: Path, info: dict[str, object], counts: np.ndarray,
           user_counts: np.ndarray | None = None) -> dict[str, object]:
    """Write ``info.json``, ``item_counts.npy`` and (unless written already)
    ``user_counts.npy`` (training rows per item, per user) into the prepared folder ``tmp``
    and put it in ``out_dir``'s place; returns ``info``."""
    (tmp / "info.json").write_text(json.dumps(info, indent=2))
    np.save(tmp / "item_counts.npy", counts)
    if user_counts is not None:
        np.save(tmp / USER_COUNTS, user_counts)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return info


def _checked(raw: RawData) -> tuple[pd.DataFrame, int]:
    """The interactions with repeated pairs merged, and how many rows that merged."""
    df = raw.interactions
    missing = [c for c in (USER, ITEM) if c not in df.columns]
    if missing:
        raise DataError(
            f"dataset '{raw.name}': interactions have no {' or '.join(missing)} column "
            f"(columns: {', '.join(map(str, df.columns))}); map your id columns to user/item"
        )
    if len(df) == 0:
        raise DataError(f"dataset '{raw.name}' has no interactions")
    for col in (USER, ITEM):
        empty = np.flatnonzero(df[col].isna().to_numpy())
        if len(empty):
            raise DataError(f"dataset '{raw.name}': {len(empty)} of {len(df)} interactions have "
                            f"no {col} id ({rows_text(empty)}); fill or drop those rows")
    if TIMESTAMP in df.columns:
        df = df.sort_values(TIMESTAMP, kind="stable")
    # Implicit feedback: a repeated (user, item) pair is one positive; keep its first record.
    kept = df.drop_duplicates(subset=[USER, ITEM], keep="first").reset_index(drop=True)
    return kept, len(df) - len(kept)


def _given_split(col: pd.Series) -> np.ndarray:
    names = col.astype(str).str.lower()
    bad = sorted(set(names.unique()) - set(SPLITS))
    if bad:
        raise DataError(f"split column has values {bad}; allowed: {', '.join(SPLITS)}")
    lookup = {n: i for i, n in enumerate(SPLITS)}
    codes = names.map(lookup).to_numpy(dtype=np.int8)
    if not (codes == 0).any():
        raise DataError("the given split has no train rows")
    return codes


def _write_ids(path: Path, ids: pd.Index) -> None:
    table = pa.table({"index": np.arange(len(ids), dtype=np.int64), "id": ids.to_numpy()})
    pq.write_table(table, path)


def _write_features(path: Path, features: pd.DataFrame | None,
                    ids: pd.Index) -> dict[str, object] | None:
    """Write the table aligned to ``ids``; returns how many ids it has no row for."""
    if features is None:
        return None
    # Rows for ids without features stay null; features of ids not in the data are dropped.
    aligned = features[~features.index.duplicated()].reindex(ids)
    absent = ids[~ids.isin(features.index)]
    aligned.index = pd.RangeIndex(len(ids), name="index")
    pq.write_table(pa.Table.from_pandas(aligned.reset_index(), preserve_index=False), path)
    return {"ids_without_row": len(absent), "examples": [str(v) for v in absent[:5]],
            "written_differently": _written_differently(absent, features.index)}


def _written_differently(absent: pd.Index, keys: pd.Index) -> int:
    """How many ids without a feature row have one under the same number written another way
    (``1`` in the interactions, ``1.0`` or ``01`` in the features file): ids read as numbers
    in one file and compared as text in the other."""
    if not len(absent):
        return 0

    def alike(index: pd.Index) -> pd.Index:
        text = pd.Index(index.astype(str))
        return pd.Index(text.str.replace(r"\.0+$", "", regex=True).str.lstrip("0"))

    return int(alike(absent).isin(alike(keys)).sum())
