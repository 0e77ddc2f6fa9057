"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/retrieval.py [--smoke-test] [--skip-ml100k]
    [--clusters N] [--models cml,bpr] [--sweeps NAME,...] [--out DIR] [--runs DIR]

What an approximate index costs in recall and buys in speed, on the vectors of trained models.

1. Vectors: ``examples/cml_ml100k.yaml`` (l2, unit ball) and ``examples/bpr_ml100k.yaml``
   (dot), both at d=64, trained ``EPOCHS`` epochs in this process on synthetic data of 10M
   interactions, 100k users and 1M items in ``--clusters`` clusters (default 1000: users
   mostly interact within their cluster); their 1M item vectors, and the vectors of 10k
   users drawn with a fixed seed as the queries. With ``big_run.py``'s 10 clusters, the
   100k items of a cluster are exchangeable: a user's exact top 50 among them is noise in
   the vectors, which no index finds without scanning the cluster.
2. Exact search: ``faiss-flat`` top-50 of every query (2 threads): the truth.
3. Every retriever of ``SWEEPS``, built once per build setting, searched with each value of
   its main search parameter. One JSON line each: build seconds, queries/s (the best of
   ``REPEATS`` searches of all queries), ``speed_up`` against exact search of
   ``REFERENCE`` queries timed just before, also the best of ``REPEATS`` (per query, same
   threads: the machine's speed
   drifts with its neighbours' load), ``retention``: the mean share of the exact top-50 it
   returns (its Recall@50 against exact search), and ``heldout_retention``: its test
   Recall@50 over the query users (seen items excluded, as ``raytrec evaluate`` does) over
   exact search's.
4. ``retrieval.png`` in ``--out`` (default ``benchmarks/out``): retention against speed-up,
   one curve per retriever and model; ``retrieval.jsonl`` beside it holds the rows.
5. Unless ``--skip-ml100k``: both example configs trained on MovieLens-100K (in this process),
   and their test metrics through each retriever at its defaults against exact search, by
   ``raytrec evaluate``'s own comparison (``raytrec.run.rescore``): Recall@50 retention.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from common.runs import BPR_CONFIG, CML_CONFIG, emit, train
from common.setup import arguments, start_benchmark

logger = logging.getLogger("benchmarks.retrieval")

ROOT = Path(__file__).resolve().parent
K, THREADS, QUERIES, EPOCHS = 50, 2, 10_000, 4
REPEATS, REFERENCE = 3, 2048  # FAISS's flat search is far slower per query below ~2k queries
# 10 interactions an item on average: with fewer, most item vectors stay where they were
# initialised, an unstructured cloud that no index (nor a real catalogue) resembles.
DATA = ("data={{name: synthetic, num_users: 100000, num_items: 1000000, "
        "interactions_per_user: 100, num_clusters: {clusters}, seed: 0}}")
SMOKE_DATA = "data={name: synthetic, num_users: 600, num_items: 5000, seed: 0}"
MODELS = {"cml": CML_CONFIG, "bpr": BPR_CONFIG}
TRAIN = ["mapper.dim=64", "scaling.num_workers=0", "train.patience=null",
         "eval.max_users=2000"]
# name -> (build options, search option, its values): the main knob of each index.
SWEEPS: dict[str, tuple[dict[str, Any], str, list[Any]]] = {
    "faiss-hnsw": ({"m": 32, "ef_construction": 100}, "ef_search", [50, 64, 96, 128, 256]),
    "faiss-ivf": ({"nlist": 4096}, "nprobe", [1, 2, 4, 6, 8, 12, 16, 32]),
    "faiss-ivf-pq": ({"nlist": 4096, "pq": 32, "rerank": 4}, "nprobe", [2, 4, 8, 16, 32]),
    "faiss-ivf-16k": ({"nlist": 16384}, "nprobe", [4, 8, 16, 32]),
    "faiss-ivf-16k-pq": ({"nlist": 16384, "pq": 32, "rerank": 10}, "nprobe", [8, 16, 32]),
    "faiss-lsh": ({"rerank": 10}, "nbits", [128, 256, 512, 1024]),
}
SMOKE_SWEEPS: dict[str, tuple[dict[str, Any], str, list[Any]]] = {
    "faiss-hnsw": ({"m": 16}, "ef_search", [50, 100]),
    "faiss-ivf": ({"nlist": 64}, "nprobe", [1, 8]),
    "faiss-ivf-pq": ({"nlist": 64, "pq": 16}, "nprobe", [4]),
    "faiss-lsh": ({}, "nbits", [128]),
}
BUILT_BY_SEARCH = {"nbits"}  # LSH: every value is its own index


@dataclass
class Queries:
    """The query users: their vectors and, for the held-out metric, what they hold out."""

    users: np.ndarray  # indexes
    vectors: np.ndarray  # (Q, D)
    test: Any  # EvalData of the test split


def vectors(run_dir: Path, num_queries: int) -> tuple[str, np.ndarray, Queries]:
    """The run's distance, item vectors and ``num_queries`` of its users (a seeded draw)."""
    from raytrec.evaluation.data import EvalData
    from raytrec.serve.vectors import Vectors

    found = Vectors.from_run(run_dir)
    pick = np.sort(np.random.default_rng(0).choice(
        found.num_users, min(num_queries, found.num_users), replace=False))
    test = EvalData.load(str(run_dir / "data"), "test", found.num_users)
    return found.distance, found.items, Queries(pick, np.ascontiguousarray(found.users[pick]),
                                                test)


def registered(name: str) -> str:
    return "faiss-ivf" if name.startswith("faiss-ivf") else name


def build(name: str, options: dict[str, Any], items: np.ndarray, distance: str) -> Any:
    from raytrec.plugins import get_registry

    threads = {} if name == "torch-exact" else {"threads": THREADS}  # torch's: set in main
    retriever = get_registry().create("retriever", registered(name), **threads, **options)
    retriever.build(items, distance)
    return retriever


def per_query_seconds(retriever: Any, queries: np.ndarray, repeats: int = 1) -> float:
    """Seconds per query of ``search(queries, K)``, the best of ``repeats``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        retriever.search(queries, K)
        best = min(best, time.perf_counter() - start)
    return best / len(queries)


def retention(ids: np.ndarray, truth: np.ndarray) -> float:
    hits = [len(np.intersect1d(a[a >= 0], b)) for a, b in zip(ids, truth, strict=True)]
    return float(np.mean(hits)) / truth.shape[1]


def heldout_recall(retriever: Any, queries: Queries, num_items: int) -> float:
    """Mean test Recall@K of the query users with held-out items, seen items excluded."""
    from raytrec.evaluation.metrics import per_user

    has = queries.test.relevant.counts()[queries.users] > 0
    users, q = queries.users[has], queries.vectors[has]
    top = retriever.search_excluding(q, K, users, queries.test.exclude)
    return float(per_user(top, users, queries.test.relevant, [K], num_items)[f"recall@{K}"]
                 .mean())


def sweep(model: str, distance: str, items: np.ndarray, queries: Queries,
          sweeps: dict[str, tuple[dict[str, Any], str, list[Any]]]) -> Iterator[dict[str, Any]]:
    exact = build("faiss-flat", {}, items, distance)
    q = queries.vectors
    _, truth = exact.search(q, K)
    exact_recall = heldout_recall(exact, queries, len(items))
    reference = q[:REFERENCE]

    def row(name: str, retriever: Any, settings: dict[str, Any]) -> dict[str, Any]:
        exact_s = per_query_seconds(exact, reference, REPEATS)
        seconds = per_query_seconds(retriever, q, REPEATS)
        _, ids = retriever.search(q, K)
        found = {"model": model, "retriever": name, **settings,
                 "build_s": retriever.stats.build_seconds, "queries_per_s": 1 / seconds,
                 "exact_queries_per_s": 1 / exact_s, "speed_up": exact_s / seconds,
                 "retention": retention(ids, truth),
                 "heldout_retention": heldout_recall(retriever, queries, len(items))
                 / exact_recall, "exact_heldout_recall": exact_recall}
        logger.info("%s", found)
        return found

    yield row("faiss-flat", exact, {})
    yield row("torch-exact", build("torch-exact", {}, items, distance), {})
    for name, (options, knob, values) in sweeps.items():
        retriever = None
        for value in values:
            if retriever is None or knob in BUILT_BY_SEARCH:
                retriever = build(name, {**options, knob: value}, items, distance)
            setattr(retriever, knob, value)
            yield row(name, retriever, {**options, knob: value})
        del retriever


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(MODELS), figsize=(12, 4.5), sharey=True)
    for ax, model in zip(np.atleast_1d(axes), MODELS, strict=True):
        for name in SWEEPS:
            points = sorted((r["speed_up"], r["retention"]) for r in rows
                            if r["model"] == model and r["retriever"] == name)
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=name)
        ax.axhline(0.95, color="grey", linestyle=":", linewidth=1)
        ax.axvline(50, color="grey", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlabel("queries/s, × exact faiss-flat")
        ax.set_title(f"{model}: {K} of 1M items, {THREADS} threads")
        ax.legend()
    np.atleast_1d(axes)[0].set_ylabel(f"Recall@{K} against exact search")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def ml100k_rows(tmp: Path, smoke: bool) -> Iterator[dict[str, Any]]:
    from raytrec.run.rescore import rescore

    extra = ["scaling.num_workers=0", *(["train.epochs=2"] if smoke else [])]
    for model, config in MODELS.items():
        run = train(config, extra, tmp / f"ml100k-{model}")
        for name in ("faiss-hnsw", "faiss-ivf", "faiss-lsh"):
            found = rescore(run.run_dir, [], name)
            yield {"data": "movielens-100k", "model": model, "retriever": name,
                   "test_recall@50": round(found["test"]["recall@50"], 4),
                   "exact_recall@50": round(found["test, exact"]["recall@50"], 4),
                   "retention_recall@50": round(found["retention"]["recall@50"], 4),
                   "retention_ndcg@10": round(found["retention"]["ndcg@10"], 4)}


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true", help="tiny data, < 2 minutes")
    parser.add_argument("--skip-ml100k", action="store_true")
    parser.add_argument("--clusters", type=int, default=1000,
                        help="clusters of the synthetic data (default 1000)")
    parser.add_argument("--models", default=",".join(MODELS), help="e.g. bpr")
    parser.add_argument("--sweeps", help="names of SWEEPS to run (default all)")
    parser.add_argument("--out", type=Path, default=ROOT / "out")
    parser.add_argument("--runs", type=Path, help="train into RUNS/<model>, or reuse the "
                        "finished run found there (default: a temporary directory)")
    args = parser.parse_args(argv)
    start_benchmark()
    import torch

    torch.set_num_threads(THREADS)
    data, sweeps = (SMOKE_DATA, SMOKE_SWEEPS) if args.smoke_test else \
        (DATA.format(clusters=args.clusters), SWEEPS)
    if args.sweeps:
        sweeps = {name: sweeps[name] for name in args.sweeps.split(",")}
    epochs = 1 if args.smoke_test else EPOCHS
    rows: list[dict[str, Any]] = []
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="raytrec-retrieval-") as tmp:
        runs = args.runs or Path(tmp)
        for model in args.models.split(","):
            run_dir = runs / model
            if not (run_dir / "metrics.json").is_file():
                train(MODELS[model], [data, *TRAIN, f"train.epochs={epochs}",
                                      f"eval.every={epochs}"], run_dir)
            distance, items, queries = vectors(run_dir, QUERIES)
            for row in sweep(model, distance, items, queries, sweeps):
                row = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
                rows.append(row)
                emit(row)
        if not args.skip_ml100k:
            for row in ml100k_rows(Path(tmp), args.smoke_test):
                emit(row)
    (args.out / "retrieval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    plot(rows, args.out / "retrieval.png")
    logger.info("wrote %s", args.out / "retrieval.png")


if __name__ == "__main__":
    main()
