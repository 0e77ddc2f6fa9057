"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/ml100k.py [--smoke-test] [--skip-ray]

Quality and speed on MovieLens-100K: CML, BPR and popularity, and Ray Train's epoch overhead.

Trains examples/cml_ml100k.yaml and examples/bpr_ml100k.yaml in this process (the loop that
``scaling.num_workers: 0`` runs), each in a temporary run directory, and prints one JSON line
per model (logs go to stderr): test recall@50, ndcg@10, recall@20 and mrr@10 of the epoch with
the best validation recall@50, that epoch, the fit's wall seconds and the mean single-worker
``train/positives_per_s`` over the epochs (from ``<run_dir>/progress.jsonl``). Popularity is
scored on the same split (``raytrec.evaluation.popularity.popularity_metrics``).

Then, unless ``--skip-ray``, the CML config runs 6 epochs on MovieLens-1M-sized synthetic data
(``EPOCH_DATA``: a MovieLens-100K epoch is too short to time) directly (``num_workers: 0``,
before Ray starts), on one Ray Train worker given both CPUs (``cpus_per_worker: 2``) and on two
workers of one CPU each, and prints the median ``train/epoch_seconds`` of epochs 2+ (the first warms
up) as ``{"model": "cml-epoch-time", ...}``, with every epoch's seconds and each fit's wall
time (which includes Ray Train's start-up and one evaluation). Only ratios within one run mean
anything on a shared box.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from common.runs import (
    BPR_CONFIG,
    CML_CONFIG,
    IN_PROCESS,
    Run,
    emit,
    median_epoch_seconds,
    train,
)
from common.setup import arguments, start_benchmark

KS = [10, 20, 50, 100]
REPORTED = ("recall@50", "ndcg@10", "recall@20", "mrr@10")
# Ray Train layouts compared with the direct loop: (label, overrides).
LAYOUTS = (
    ("direct", ["scaling.num_workers=0"]),
    ("ray_1_worker", ["scaling.num_workers=1", "scaling.cpus_per_worker=2"]),
    ("ray_2_workers", ["scaling.num_workers=2", "scaling.cpus_per_worker=1"]),
)

# The epoch-time runs train on MovieLens-1M-sized synthetic data (~600k training positives,
# seconds per epoch) so that per-epoch differences are not lost in timer noise.
EPOCH_DATA = ["data={name: synthetic, num_users: 6040, num_items: 3706, "
              "interactions_per_user: 165.6, seed: 0}"]
SMOKE_EPOCH_DATA = ["data={name: synthetic, num_users: 300, num_items: 200, seed: 0}"]


def metrics_of(found: dict[str, float]) -> dict[str, float]:
    return {f"test_{name}": round(found[name], 4) for name in REPORTED}


def model_row(name: str, run: Run) -> dict[str, Any]:
    rates = run.epoch_values("train/positives_per_s")
    valid = run.summary["valid"].get("recall@50")
    return {"model": name, **metrics_of(run.summary["test"]),
            "valid_recall@50": None if valid is None else round(valid, 4),
            "best_epoch": run.summary["best_epoch"], "epochs_run": run.summary["epochs_run"],
            "fit_s": round(run.fit_seconds, 2),
            "positives_per_s": round(statistics.fmean(rates), 1)}


def popularity_row(data_dir: Path) -> dict[str, Any]:
    from raytrec.evaluation.popularity import popularity_metrics

    start = time.perf_counter()
    found = popularity_metrics(data_dir, "test", KS)
    seconds = time.perf_counter() - start
    return {"model": "popularity", **metrics_of(found), "best_epoch": None,
            "fit_s": round(seconds, 2), "positives_per_s": None}


def start_seconds(run: Run) -> float:
    """Wall seconds of the fit outside its first epoch until that epoch's report is written.

    Start-up (workers, reading data, building the model) plus saving and reporting the first
    checkpoint; the epoch-time runs evaluate only after their last epoch, so none is included.
    """
    first = run.progress[0]
    return first["time"] - run.started - first["train/epoch_seconds"]


def epoch_time_row(tmp: Path, epochs: int, settle_s: float, data: list[str]) -> dict[str, Any]:
    """CML epoch time directly, on one Ray worker with both CPUs, and on two workers.

    The direct run goes first, before Ray starts, as it would run for a user without Ray;
    after ``ensure_ray`` the cluster gets ``settle_s`` to finish starting its own processes.
    ``data`` overrides the config's data (MovieLens-100K epochs take ~0.2 s: too short to time).
    """
    import ray

    from raytrec.run.ray_setup import ensure_ray

    common = [f"train.epochs={epochs}", f"eval.every={epochs}", *data]
    (label, layout), *on_ray = LAYOUTS
    runs = {label: train(CML_CONFIG, [*layout, *common], tmp / f"epoch-{label}")}
    start = time.perf_counter()
    ensure_ray()
    ray_init = time.perf_counter() - start
    time.sleep(settle_s)
    try:
        for label, layout in on_ray:
            runs[label] = train(CML_CONFIG, [*layout, *common], tmp / f"epoch-{label}")
    finally:
        ray.shutdown()
    per_epoch = {label: median_epoch_seconds(run) for label, run in runs.items()}
    return {"model": "cml-epoch-time", "epochs": epochs, "data": data,
            "direct_s": round(per_epoch["direct"], 4),
            "ray_1_worker_s": round(per_epoch["ray_1_worker"], 4),
            "ratio_1_worker": round(per_epoch["ray_1_worker"] / per_epoch["direct"], 3),
            "ray_2_workers_s": round(per_epoch["ray_2_workers"], 4),
            "ratio_2_workers": round(per_epoch["ray_2_workers"] / per_epoch["direct"], 3),
            "epoch_seconds": {label: [round(s, 4) for s in run.epoch_values(
                "train/epoch_seconds")] for label, run in runs.items()},
            "fit_wall_s": {label: round(run.fit_seconds, 2) for label, run in runs.items()},
            "to_first_epoch_s": {label: round(start_seconds(run), 2)
                                 for label, run in runs.items()},
            "ray_init_s": round(ray_init, 2)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true",
                        help="2 epochs per model and per layout, < 60 s")
    parser.add_argument("--skip-ray", action="store_true", help="skip the Ray Train epoch times")
    parser.add_argument("--epoch-time-epochs", type=int, default=6,
                        help="epochs of each epoch-time run (default 10; the first is dropped)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    start_benchmark()
    extra = ["train.epochs=2"] if args.smoke_test else []
    epochs = 2 if args.smoke_test else args.epoch_time_epochs
    with tempfile.TemporaryDirectory(prefix="raytrec-bench-") as name:
        tmp = Path(name)
        cml = train(CML_CONFIG, [*IN_PROCESS, *extra], tmp / "cml")
        emit(model_row("cml", cml))
        emit(model_row("bpr", train(BPR_CONFIG, [*IN_PROCESS, *extra], tmp / "bpr")))
        emit(popularity_row(cml.run_dir / "data"))
        if not args.skip_ray:
            data = SMOKE_EPOCH_DATA if args.smoke_test else EPOCH_DATA
            emit(epoch_time_row(tmp, epochs, 1.0 if args.smoke_test else 5.0, data))


if __name__ == "__main__":
    main()
