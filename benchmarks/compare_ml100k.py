"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/compare_ml100k.py [--smoke-test]
    [--cold-start-only] [--only ROW,...] [--set KEY=VALUE ...]

Every model of examples/ on one MovieLens-100K split, in this process (``num_workers: 0``):
popularity, MF, BPR, WARP (uniform candidates, and ``warp+hard``: the hardest of 10 scored by
the current model), CML, CML+F and two-tower. ``--only`` runs the rows named (model rows,
``logq``, ``cold-start``, ``mixed-throughput``); ``--set`` overrides a config key of every
model row (``train.sparse=false`` for whole-table updates). One JSON line per model: test
recall@20/50, ndcg@10, mrr@10 of the best validation epoch, and fit seconds. Then:

- ``logq``: the two-tower config with and without InfoNCE's logQ correction: test recall@50 and
  the share of the 10% most popular items among all users' top-50 lists (popularity bias).
- ``cold-start``: the two-tower config with 10% of users held out of training entirely
  (``split.cold_users: 0.1``): their test recall@50 from demographics alone, against
  popularity on the same users and against the warm users. Beside it, the ceiling that
  demographics give a count-based model: each cold user ranked by the popularity of items among
  the training users of their own group (gender, age band, occupation, and gender x age band),
  smoothed toward the global popularity with the weight of one average user's history.
- ``mixed-throughput``: positives/s of the two-tower InfoNCE step with in-batch negatives plus
  0, 256 or 2048 shared extra negatives (``mixed``), on a MovieLens-1M-sized synthetic
  catalogue (MovieLens-100K has fewer than 2048 items).
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import torch
from common.setup import arguments, start_benchmark

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
IN_PROCESS = ["scaling.num_workers=0"]
# (row name, config, overrides); WARP reuses the BPR set-up with the rank-weighted hinge.
MODELS = [
    ("mf", "mf_ml100k.yaml", []),
    ("bpr", "bpr_ml100k.yaml", []),
    ("warp", "bpr_ml100k.yaml", ["loss={name: warp, margin: 1.0}", "sampler.num_negatives=10",
                                 "sampler.exclude_positives=true"]),
    ("warp+hard", "bpr_ml100k.yaml", ["loss={name: warp, margin: 1.0}",
                                      "sampler={name: hard, num_candidates: 10, "
                                      "num_negatives: 1, exclude_positives: true}"]),
    ("cml", "cml_ml100k.yaml", []),
    ("cml+f", "cmlf_ml100k.yaml", []),
    ("two-tower", "two_tower_ml100k.yaml", []),
]
REPORTED = ("recall@20", "recall@50", "ndcg@10", "mrr@10")
SYNTHETIC_TOWERS = [
    "data={name: synthetic, num_users: 6040, num_items: 3706, interactions_per_user: 30}",
    "mapper.user_features={categorical: [cluster]}",
    "mapper.item_features={categorical: [cluster]}",
]

logger = logging.getLogger("benchmarks.compare")


def train(config: str, overrides: list[str], run_dir: Path) -> tuple[dict[str, Any], float]:
    from raytrec.run.job import create_job
    from raytrec.run.launch import run_job

    job = create_job(EXAMPLES / config, [*IN_PROCESS, *overrides], run_dir, overwrite=True)
    start = time.perf_counter()
    summary = run_job(job)
    return summary, time.perf_counter() - start


def row(name: str, test: dict[str, float], seconds: float | None) -> dict[str, Any]:
    return {"model": name, **{f"test_{k}": round(test[k], 4) for k in REPORTED},
            "fit_s": None if seconds is None else round(seconds, 1)}


def popular_share(run_dir: Path, k: int = 50, top: float = 0.1) -> float:
    """Share of the ``top`` most popular items among every test user's top-k list."""
    from raytrec.data.store import read_info, read_user_items
    from raytrec.retrievers.faiss_flat import FaissFlatRetriever

    data = run_dir / "data"
    info = read_info(data)
    seen = read_user_items(data, "train", info.num_users).merge(
        read_user_items(data, "valid", info.num_users))
    users = read_user_items(data, "test", info.num_users).users()
    vectors = {kind: np.stack(pq.read_table(run_dir / f"{kind}_embeddings.parquet")
                              ["embedding"].to_numpy(zero_copy_only=False))
               for kind in ("user", "item")}
    retriever = FaissFlatRetriever()
    retriever.build(vectors["item"], "cosine")
    lists = retriever.search_excluding(vectors["user"][users], k, users, seen)
    popular = np.argsort(-info.item_counts)[: int(info.num_items * top)]
    return float(np.isin(lists[lists >= 0], popular).mean())


def mixed_throughput(run_dir: Path, extras: int, steps: int) -> float:
    """Positives/s of the InfoNCE step of ``run_dir``'s (two-tower) config on its data."""
    from common.steps import loop_step

    from raytrec.config import read_yaml, validate, with_defaults
    from raytrec.data.store import read_train_rows, read_training_info
    from raytrec.plugins import get_registry

    raw = read_yaml(run_dir / "config.yaml")
    raw["sampler"] = {"name": "mixed", "num_negatives": max(extras, 1)}
    if extras == 0:
        raw["sampler"] = {"name": "in-batch"}
    config = validate(with_defaults(raw), get_registry())
    info = read_training_info(run_dir / "data")
    step = loop_step(config, info, seed=0)
    users, items = (torch.from_numpy(a.copy()) for a in read_train_rows(run_dir / "data", 0, 1)[:2])
    batch = config.train.batch_size
    gen = torch.Generator().manual_seed(0)
    timed = 0.0
    for s in range(steps + 3):
        idx = torch.randint(len(users), (batch,), generator=gen)
        start = time.perf_counter()
        step(users[idx], items[idx])
        if s >= 3:  # warm-up steps are not timed
            timed += time.perf_counter() - start
    return steps * batch / timed


def cold_start_row(tmp: Path, extra: list[str]) -> dict[str, Any]:
    """Two-tower with 10% of users held out entirely: served from demographics alone."""
    from raytrec.data.store import read_user_items
    from raytrec.evaluation.data import EvalData
    from raytrec.evaluation.distributed import cold_and_warm
    from raytrec.evaluation.popularity import popularity_metrics

    summary, _ = train("two_tower_ml100k.yaml", ["split.cold_users=0.1", *extra], tmp / "cold")
    data = tmp / "cold" / "data"
    train_items = read_user_items(data, "train", 943)
    groups = cold_and_warm(EvalData.load(str(data), "test", 943), train_items)
    popular = popularity_metrics(data, "test", [50], users=groups["cold"])
    cold, warm = summary["test_cold"]["recall@50"], summary["test_warm"]["recall@50"]
    return {"model": "cold-start", "cold_users": len(groups["cold"]),
            "cold_recall@50": round(cold, 4), "popularity_cold_recall@50":
            round(popular["recall@50"], 4), "ratio_vs_popularity": round(cold /
                                                                          popular["recall@50"], 3),
            "warm_recall@50": round(warm, 4),
            **{f"group_popularity_{name}_cold_recall@50": round(value, 4)
               for name, value in group_popularity(data, groups["cold"]).items()}}


def group_popularity(data_dir: Path, users: np.ndarray) -> dict[str, float]:
    """Recall@50 of ``users`` ranked by item popularity within their demographic group.

    Group g's score of item i is ``(c_g(i) + m p(i)) / (n_g + m)``: ``c_g`` the training pairs
    of g's users, ``n_g`` their number, ``p`` the global item shares and ``m`` one average
    user's number of training pairs (the prior weighs as much as one user).
    """
    from raytrec.data.store import read_features, read_info, read_pairs
    from raytrec.evaluation import evaluate
    from raytrec.evaluation.data import EvalData
    from raytrec.retrievers.faiss_flat import FaissFlatRetriever

    info = read_info(data_dir)
    features = read_features(data_dir, "user")
    train_users, train_items = read_pairs(data_dir, "train")
    share = np.bincount(train_items, minlength=info.num_items) / len(train_items)
    prior = len(train_items) / len(np.unique(train_users))
    # MovieLens-1M's age bands.
    band = np.digitize(features["age"].to_numpy(), [18, 25, 35, 45, 50, 56]).astype(str)
    gender = features["gender"].to_numpy().astype(str)
    keys = {"gender": gender, "age": band, "occupation":
            features["occupation"].to_numpy().astype(str),
            "gender_age": np.char.add(gender, band)}
    data = EvalData.load(str(data_dir), "test", info.num_users)
    found = {}
    for name, key in keys.items():
        names, group = np.unique(key, return_inverse=True)
        counts = np.zeros((len(names), info.num_items))
        np.add.at(counts, (group[train_users], train_items), 1.0)
        scores = (counts + prior * share) / (counts.sum(1, keepdims=True) + prior)
        retriever = FaissFlatRetriever()
        retriever.build(np.ascontiguousarray(scores.T, dtype=np.float32), "dot")
        onehot = np.eye(len(names), dtype=np.float32)[group]  # each user's group, one-hot
        sums = evaluate(onehot.__getitem__, retriever, users, data.relevant, data.exclude, [50])
        found[name] = sums.means()["recall@50"]
    return found


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true", help="2 epochs per model")
    parser.add_argument("--cold-start-only", action="store_true",
                        help="only the cold-start row")
    parser.add_argument("--only", help="comma-separated rows to run (default: all)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override for every model row, e.g. train.sparse=false")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    if args.cold_start_only:
        only = {"cold-start"}

    def wanted(row_name: str) -> bool:
        return only is None or row_name in only
    start_benchmark()
    extra = [*args.set, *(["train.epochs=2"] if args.smoke_test else [])]
    emit = lambda payload: print(json.dumps(payload), flush=True)  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="raytrec-compare-") as name:
        tmp = Path(name)
        runs = {}
        for label, config, overrides in MODELS:
            if not wanted(label) and not (label == "two-tower" and wanted("logq")):
                continue
            summary, seconds = train(config, [*overrides, *extra], tmp / label)
            runs[label] = tmp / label
            if label == "mf":
                from raytrec.evaluation.popularity import popularity_metrics

                emit(row("popularity", popularity_metrics(tmp / label / "data", "test",
                                                          [10, 20, 50, 100]), None))
            emit(row(label, summary["test"], seconds))
        if wanted("logq"):
            logq_row(tmp, runs, extra, emit)
        if wanted("cold-start"):
            emit(cold_start_row(tmp, extra))
        if wanted("mixed-throughput"):
            emit(throughput_row(tmp, args.smoke_test))


def logq_row(tmp: Path, runs: dict[str, Path], extra: list[str], emit: Any) -> None:
    """The two-tower with and without logQ: recall@50 and the share of popular items."""
    no_logq, _ = train("two_tower_ml100k.yaml", ["loss.logq_correction=false", *extra],
                       tmp / "no-logq")
    with_logq = json.loads((runs["two-tower"] / "metrics.json").read_text())["test"]
    emit({"model": "logq", "with_recall@50": round(with_logq["recall@50"], 4),
          "without_recall@50": round(no_logq["test"]["recall@50"], 4),
          "with_top10pct_share@50": round(popular_share(runs["two-tower"]), 4),
          "without_top10pct_share@50": round(popular_share(tmp / "no-logq"), 4)})


def throughput_row(tmp: Path, smoke_test: bool) -> dict[str, Any]:
    # MovieLens-100K has 1682 items, fewer than 2048 extras: time on a synthetic catalogue
    # the size of MovieLens-1M's (its cluster ids as the towers' features).
    train("two_tower_ml100k.yaml", [*SYNTHETIC_TOWERS, "train.epochs=1"], tmp / "syn")
    steps = 3 if smoke_test else 30
    return {"model": "mixed-throughput", "num_items": 3706, "batch_size": 1024,
            **{f"positives_per_s_{n}_extras": round(mixed_throughput(tmp / "syn", n, steps))
               for n in (0, 256, 2048)}}


if __name__ == "__main__":
    main()
