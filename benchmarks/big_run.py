"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/big_run.py [--smoke-test] [--workers N]
    [--items I] [--users U] [--per-user P] [--exponent A] [--epochs E]
    [--sharding replicated|rows|auto] [--test-users T]

``--epochs`` epochs (default one), each validated on ``eval.max_users: 10000``, of CML
(examples/cml_ml100k.yaml with d=64, U=20) on synthetic data (default: 10M interactions, 1M
items, 100k users, popularity exponent 1) through ``raytrec train``'s path (``create_job``
then ``run_job``) with 2 Ray Train workers of 1 CPU; then the test scoring (of every test
user, or of ``--test-users`` of them: ``eval.test_max_users``) and the outputs. Prints one
JSON line: wall seconds of each phase (data preparation, start-up, an epoch, a validation,
test scoring and outputs), the training rate, the peak RSS of every worker
(``progress.jsonl``'s ``peak_rss_mb_by_rank``), the ID tables and state a worker held
(``train/table_mb``), and test Recall@50 beside popularity's on the same users. With
``--sharding rows`` or ``auto``, it first asks for the same run with
the tables replicated and records whether the memory check refuses it, and what it says.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path

from common.runs import CML_CONFIG, emit, read_progress
from common.setup import arguments, start_benchmark

logger = logging.getLogger("benchmarks.big_run")

SMOKE_DATA = "data={name: synthetic, num_users: 500, num_items: 3000, seed: 0}"


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true", help="tiny data")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--per-user", type=float, default=100.0)
    parser.add_argument("--exponent", type=float, default=1.0,
                        help="the data's popularity exponent (0: uniform)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--sharding", choices=["replicated", "rows", "auto"],
                        default="replicated")
    parser.add_argument("--test-users", type=int, default=None)
    args = parser.parse_args(argv)
    start_benchmark()
    from raytrec.data.store import read_training_info
    from raytrec.errors import ConfigError
    from raytrec.evaluation.popularity import popularity_metrics
    from raytrec.run.job import create_job
    from raytrec.run.launch import run_job

    data = (SMOKE_DATA if args.smoke_test else
            f"data={{name: synthetic, num_users: {args.users}, num_items: {args.items}, "
            f"interactions_per_user: {args.per_user}, "
            f"popularity_exponent: {args.exponent}, seed: 0}}")
    overrides = [data, "mapper.dim=64", "sampler.num_negatives=20", f"train.epochs={args.epochs}",
                 "train.patience=null", "eval.max_users=10000", "eval.ease=false",
                 f"scaling.num_workers={args.workers}", "scaling.cpus_per_worker=1",
                 f"eval.test_max_users={args.test_users or 'null'}"]
    found: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="raytrec-big-") as tmp:
        run_dir = Path(tmp) / "run"
        if args.sharding != "replicated":
            try:
                create_job(CML_CONFIG, [*overrides, "train.sharding=replicated"],
                           Path(tmp) / "replicated", overwrite=True)
                found["replicated"] = "accepted by the memory check"
            except ConfigError as exc:
                found["replicated"] = f"refused: {exc}"
        start = time.perf_counter()
        job = create_job(CML_CONFIG, [*overrides, f"train.sharding={args.sharding}"], run_dir,
                         overwrite=True)
        prepared = time.perf_counter() - start
        started = time.time()
        fit_start = time.perf_counter()
        summary = run_job(job)
        fit = time.perf_counter() - fit_start
        rows = read_progress(run_dir)
        first, row = rows[0], rows[-1]
        info = read_training_info(run_dir / "data")
        epoch = sum(r["train/epoch_seconds"] for r in rows) / len(rows)
        evaluation = sum(r["eval_seconds"] for r in rows) / len(rows)
        # An epoch's row is written once the epoch and its validation are done.
        startup = first["time"] - started - first["train/epoch_seconds"] - first["eval_seconds"]
        popular = popularity_metrics(run_dir / "data", "test", [50],
                                     max_users=args.test_users, seed=0)
        emit({"train_positives": info.num_train, "num_items": info.num_items,
              "num_users": info.num_users, "workers": args.workers,
              "sharding": args.sharding, **found, "epochs": len(rows),
              "prepare_seconds": round(prepared, 1), "startup_seconds": round(startup, 1),
              "epoch_seconds": round(epoch, 1), "valid_seconds": round(evaluation, 1),
              "test_and_outputs_seconds": round(fit - (row["time"] - started), 1),
              "fit_seconds": round(fit, 1),
              "positives_per_s": round(info.num_train / epoch, 1),
              "peak_rss_mb_by_rank": row.get("peak_rss_mb_by_rank", [row["peak_rss_mb"]]),
              "table_mb": round(row["train/table_mb"], 1),
              "valid_recall@50_by_epoch": [round(r["valid/recall@50"], 4) for r in rows],
              "test_users": summary["test"]["users"],
              "test_recall@50": round(summary["test"]["recall@50"], 4),
              "popularity_test_recall@50": round(popular["recall@50"], 4)})
        logger.info("progress row: %s", json.dumps(row))


if __name__ == "__main__":
    main()
