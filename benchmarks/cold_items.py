"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/cold_items.py [--smoke-test]
    [--share 0.1] [--only ROW,...]

Items held out of training entirely (``split.cold_items``) on MovieLens-100K with genres and
year as item features (year's two missing values filled with the median, written out as a
Parquet data set), in this process:

- ``cml+f``: the CML+F example with genres and year, cold items served by ``f(x_j)``;
- ``two-tower``, ``two-tower+id-dropout``: the two-tower example with the same item features,
  without and with ``item_id_dropout: 0.3`` (the item tower trained now and then without the
  ID, as it will serve a cold item);
- ``genre-popularity``: each cold item scored by the mean, over its genres, of the share of
  the user's training items with that genre.

Each model row also trains without the hold-out and scores the same warm answers among the
same warm items, for the warm-items comparison. One JSON line per row: recall@50 and ndcg@10
of the cold items among themselves and over the whole catalogue, of the warm items among
themselves (and that of the run without the hold-out), and the ratio of the cold-item
recall@50 to genre-popularity's.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from common.setup import arguments, start_benchmark

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FEATURES = "{multi_hot: [genres], numeric: [year]}"
ROWS = {
    "cml+f": ("cmlf_ml100k.yaml", [f"mapper.item_features={FEATURES}",
                                   "mapper.unseen_items=features"]),
    "two-tower": ("two_tower_ml100k.yaml", [f"mapper.item_features={FEATURES}",
                                            "mapper.item_id_dropout=0.0"]),
    "two-tower+id-dropout": ("two_tower_ml100k.yaml", [f"mapper.item_features={FEATURES}",
                                                       "mapper.item_id_dropout=0.3"]),
}

logger = logging.getLogger("benchmarks.cold_items")


def write_data(work: Path) -> str:
    """MovieLens-100K as Parquet files with year filled; the ``data=`` override."""
    from raytrec.data.movielens import MovieLens100K

    raw = MovieLens100K().load()
    inter = raw.interactions.rename(columns={"user": "user_id", "item": "item_id"})
    items = raw.item_features.rename_axis("item_id").reset_index()  # ids are the index
    items["year"] = items["year"].fillna(items["year"].median())
    users = raw.user_features.rename_axis("user_id").reset_index()
    for name, frame in (("ratings", inter), ("items", items), ("users", users)):
        frame.to_parquet(work / f"{name}.parquet", index=False)
    return (f"data={{name: parquet, path: {work / 'ratings.parquet'}, timestamp_col: timestamp,"
            f" rating_col: rating, item_features: {work / 'items.parquet'}, "
            f"user_features: {work / 'users.parquet'}}}")


def train(config: str, overrides: list[str], run_dir: Path) -> dict[str, Any]:
    from raytrec.run.job import create_job
    from raytrec.run.launch import run_job

    job = create_job(EXAMPLES / config, ["scaling.num_workers=0", *overrides], run_dir,
                     overwrite=True)
    return run_job(job)


def _vectors(run_dir: Path, kind: str) -> np.ndarray:
    table = pq.read_table(run_dir / f"{kind}_embeddings.parquet")
    return np.stack(table["embedding"].to_numpy(zero_copy_only=False)).astype(np.float32)


def among(run_dir: Path, items: np.ndarray, data: Any, distance: str) -> dict[str, float]:
    """``data`` (``EvalData.among(items)``) ranked among ``items`` only, from a finished run's
    embeddings."""
    from raytrec.evaluation.evaluate import evaluate
    from raytrec.retrievers.faiss_flat import FaissFlatRetriever

    index = FaissFlatRetriever()
    index.build(np.ascontiguousarray(_vectors(run_dir, "item")[items]), distance)
    users = _vectors(run_dir, "user")
    return evaluate(users.__getitem__, index, data.relevant.users(), data.relevant,
                    data.exclude, [10, 50]).means()


def genre_popularity(data_dir: Path, cold: np.ndarray, data: Any) -> dict[str, float]:
    """Cold items ranked, per user, by the mean share of the user's training items in each
    of the item's genres (ties by item id)."""
    from raytrec.data.store import read_features, read_info, read_user_items
    from raytrec.evaluation.evaluate import evaluate
    from raytrec.retrievers.faiss_flat import FaissFlatRetriever

    info = read_info(data_dir)
    genres = read_features(data_dir, "item")["genres"]
    names = sorted({g for row in genres for g in (row if row is not None else [])})
    onehot = np.zeros((info.num_items, len(names)), dtype=np.float32)
    for i, row in enumerate(genres):
        for g in row if row is not None else []:
            onehot[i, names.index(g)] = 1.0
    train = read_user_items(data_dir, "train", info.num_users)
    shares = np.zeros((info.num_users, len(names)), dtype=np.float32)
    for u in range(info.num_users):
        seen = train.indices[train.indptr[u]:train.indptr[u + 1]]
        if len(seen):
            shares[u] = onehot[seen].mean(0)
    per_item = onehot[cold] / np.maximum(onehot[cold].sum(1, keepdims=True), 1.0)
    # Items of one genre set score alike; an extra dimension breaks the ties by item id, as
    # the popularity baseline does (left to the index, the order among equal scores changes
    # with how many items it is asked for, and recall@50 with it, by a quarter here).
    tie = -np.arange(len(per_item), dtype=np.float32)[:, None] / len(per_item)
    index = FaissFlatRetriever()
    index.build(np.ascontiguousarray(np.hstack([per_item, tie])), "dot")
    queries = np.hstack([shares, np.full((len(shares), 1), 1e-6, dtype=np.float32)])
    return evaluate(queries.__getitem__, index, data.relevant.users(), data.relevant,
                    data.exclude, [10, 50]).means()


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true", help="2 epochs per model")
    parser.add_argument("--share", type=float, default=0.1, help="split.cold_items")
    parser.add_argument("--only", help="comma-separated model rows (default: all)")
    args = parser.parse_args(argv)
    start_benchmark()
    from raytrec.data.store import read_info
    from raytrec.evaluation.data import EvalData

    work = Path(tempfile.mkdtemp(prefix="raytrec-cold-items-"))
    data = write_data(work)
    extra = [data, *(["train.epochs=2"] if args.smoke_test else [])]
    rows = {k: v for k, v in ROWS.items() if not args.only or k in args.only.split(",")}
    baseline = None
    for name, (config, overrides) in rows.items():
        held = work / f"{name}-held"
        summary = train(config, [*extra, *overrides, f"split.cold_items={args.share}"], held)
        plain = train(config, [*extra, *overrides], work / f"{name}-plain")
        info = read_info(held / "data")
        cold = info.item_counts == 0
        test = EvalData.load(str(held / "data"), "test", info.num_users)
        if baseline is None:
            baseline = genre_popularity(held / "data", cold, test.among(cold))
            print(json.dumps({"model": "genre-popularity", "cold_items": int(cold.sum()),
                              "cold_recall@50_among_cold": round(baseline["recall@50"], 4),
                              "cold_ndcg@10_among_cold": round(baseline["ndcg@10"], 4)}),
                  flush=True)
        warm_plain = among(work / f"{name}-plain", ~cold, test.among(~cold), _distance(held))
        among_cold = summary["test_cold_items_among_cold"]
        print(json.dumps({
            "model": name,
            "cold_recall@50_among_cold": round(among_cold["recall@50"], 4),
            "cold_ndcg@10_among_cold": round(among_cold["ndcg@10"], 4),
            "vs_genre_popularity": round(among_cold["recall@50"] / baseline["recall@50"], 3),
            "cold_recall@50_catalogue": round(summary["test_cold_items"]["recall@50"], 4),
            "warm_recall@50": round(summary["test_warm_items"]["recall@50"], 4),
            "warm_recall@50_without_hold_out": round(warm_plain["recall@50"], 4),
            "warm_ratio": round(summary["test_warm_items"]["recall@50"] /
                                warm_plain["recall@50"], 3),
            "test_recall@50": round(summary["test"]["recall@50"], 4),
            "test_recall@50_without_hold_out": round(plain["test"]["recall@50"], 4),
            "best_epoch": summary["best_epoch"]}), flush=True)


def _distance(run_dir: Path) -> str:
    from raytrec.config import read_yaml

    return read_yaml(run_dir / "config.yaml")["mapper"]["distance"]


if __name__ == "__main__":
    sys.exit(main())
