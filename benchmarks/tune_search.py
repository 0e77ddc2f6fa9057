"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/tune_search.py [--config FILE]
    [--scheduler asha|fifo|both] [--out DIR] [--smoke-test]

One search of ``examples/tune_cml_ml100k.yaml`` (or ``--config``) per scheduler, with the
same seed and search algorithm; one JSON line each: wall time, trials stopped early, the
trial-epochs and trial-seconds spent (summed over trials), and the best trial's parameters,
validation and test metrics. Then, for the last search run, ``raytrec train best.yaml``
retrains the best trial: its validation metric against the trial's. With both schedulers, a
last line gives the compute ASHA saved against FIFO. ``--out`` keeps each search's directory
(results table, plots) under DIR.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from common.setup import arguments, start_benchmark

ROOT = Path(__file__).resolve().parent.parent


def search_row(config: Path, scheduler: str, out: Path, extra: list[str]) -> dict[str, Any]:
    from raytrec.tune.outputs import write_outputs
    from raytrec.tune.results import collect, table
    from raytrec.tune.search import create_search, run_search

    search = create_search(config, [f"tune.scheduler={scheduler}", *extra], out,
                           overwrite=True)
    start = time.perf_counter()
    grid = run_search(search, live=False)
    wall = time.perf_counter() - start
    trials = collect(grid, search.plan)
    best = write_outputs(trials, search.plan, out)
    frame = table(trials, search.plan)
    metric = search.plan.settings.metric
    return {"config": config.name, "scheduler": scheduler, "trials": len(frame),
            "wall_s": round(wall, 1), "stopped_early": int(frame["stopped_early"].sum()),
            "errors": int((frame["status"] == "error").sum()),
            "trial_epochs": int(frame["epochs_run"].sum()),
            "trial_seconds": round(float(frame["wall_s"].sum()), 1),
            "best_params": best["params"], "best_epoch": best["best_epoch"],
            f"best_valid_{metric}": round(best["valid"][metric], 4),
            "best_test_recall@50": round(best["test"]["recall@50"], 4),
            "best_test_ndcg@10": round(best["test"]["ndcg@10"], 4)}


def retrain_row(tune_dir: Path, metric: str) -> dict[str, Any]:
    from raytrec.run.job import create_job
    from raytrec.run.launch import run_job

    best = json.loads((tune_dir / "best.json").read_text())
    job = create_job(tune_dir / "best.yaml", [], tune_dir / "retrain", overwrite=True)
    summary = run_job(job)
    return {"retrain": str(tune_dir / "best.yaml"),
            f"trial_valid_{metric}": round(best["valid"][metric], 4),
            f"retrained_valid_{metric}": round(summary["valid"][metric], 4),
            "relative_difference": round(abs(summary["valid"][metric] / best["valid"][metric]
                                             - 1), 4),
            "retrained_test_recall@50": round(summary["test"]["recall@50"], 4),
            "retrained_test_ndcg@10": round(summary["test"]["ndcg@10"], 4)}


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__)
    parser.add_argument("--config", type=Path, default=ROOT / "examples" /
                        "tune_cml_ml100k.yaml")
    parser.add_argument("--scheduler", choices=["asha", "fifo", "both"], default="both")
    parser.add_argument("--out", type=Path, help="keep the search directories here")
    parser.add_argument("--smoke-test", action="store_true",
                        help="4 trials of 3 epochs (checks the script, measures nothing)")
    args = parser.parse_args(argv)
    start_benchmark(logging.WARNING)
    extra = (["tune.num_samples=4", "train.epochs=3", "tune.grace_period=1"]
             if args.smoke_test else [])
    schedulers = ["asha", "fifo"] if args.scheduler == "both" else [args.scheduler]
    emit = lambda payload: print(json.dumps(payload), flush=True)  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="raytrec-tune-") as name:
        root = args.out or Path(name)
        rows = {}
        for scheduler in schedulers:
            rows[scheduler] = search_row(args.config, scheduler, root / scheduler, extra)
            emit(rows[scheduler])
        metric = next(k for k in rows[schedulers[0]] if k.startswith("best_valid_"))
        emit(retrain_row(root / schedulers[0], metric.removeprefix("best_valid_")))
        if len(rows) == 2:
            asha, fifo = rows["asha"], rows["fifo"]
            emit({"asha_vs_fifo": True,
                  "trial_seconds_saved": round(1 - asha["trial_seconds"] /
                                               fifo["trial_seconds"], 3),
                  "trial_epochs_saved": round(1 - asha["trial_epochs"] / fifo["trial_epochs"],
                                              3),
                  "wall_saved": round(1 - asha["wall_s"] / fifo["wall_s"], 3)})


if __name__ == "__main__":
    main()
