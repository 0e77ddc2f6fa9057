"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/tune_bpr.py [--smoke-test]

The validation sweep that picked examples/bpr_ml100k.yaml's settings (test is never read).

Each candidate overrides optimizer, learning rate, L2 weight and negatives per positive of
examples/bpr_ml100k.yaml and trains in this process for up to 200 epochs, evaluating every 2
with a patience of 10 evaluations. One JSON line per candidate on stdout with the best
validation recall@50 and its epoch, then one ``{"best": ...}`` line. The runs also score test
at the end (the training loop always does), but this script never prints or compares it.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from common.runs import BPR_CONFIG, IN_PROCESS, train
from common.setup import arguments, start_benchmark

logger = logging.getLogger("benchmarks.tune_bpr")

# (optimizer, lr, l2, num_negatives), in the order they were tried.
GRID: list[tuple[str, float, float, int]] = [
    ("adam", 0.003, 1e-4, 1), ("adam", 0.01, 1e-4, 1), ("adam", 0.001, 1e-4, 1),
    ("adagrad", 0.1, 1e-4, 1),
    ("adam", 0.003, 0.0, 1), ("adam", 0.003, 0.001, 1), ("adam", 0.003, 0.003, 1),
    ("adam", 0.003, 0.01, 1), ("adam", 0.003, 0.02, 1),
    ("adam", 0.01, 0.01, 1), ("adam", 0.01, 0.03, 1), ("adam", 0.01, 0.1, 1),
    ("adam", 0.003, 0.01, 4), ("adagrad", 0.1, 0.01, 1), ("adagrad", 0.2, 0.01, 1),
    ("adagrad", 0.1, 0.01, 4),
]
SCHEDULE = ["train.epochs=200", "train.patience=10", "eval.every=2"]


def overrides(optimizer: str, lr: float, l2: float, negatives: int) -> list[str]:
    return [f"train.optimizer={optimizer}", f"train.lr={lr}", f"loss.l2={l2}",
            f"sampler.num_negatives={negatives}"]


def candidate_row(candidate: tuple[str, float, float, int], schedule: list[str],
                  run_dir: Path) -> dict[str, Any]:
    run = train(BPR_CONFIG, [*IN_PROCESS, *overrides(*candidate), *schedule], run_dir)
    optimizer, lr, l2, negatives = candidate
    return {"optimizer": optimizer, "lr": lr, "l2": l2, "num_negatives": negatives,
            "valid_recall@50": round(run.summary["valid"]["recall@50"], 4),
            "best_epoch": run.summary["best_epoch"], "epochs_run": run.summary["epochs_run"],
            "fit_s": round(run.fit_seconds, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true", help="2 candidates, 2 epochs")
    args = parser.parse_args(argv)
    start_benchmark()
    grid = GRID[-2:] if args.smoke_test else GRID
    schedule = ["train.epochs=2", "eval.every=1"] if args.smoke_test else SCHEDULE
    rows = []
    with tempfile.TemporaryDirectory(prefix="raytrec-tune-") as name:
        for i, candidate in enumerate(grid):
            rows.append(candidate_row(candidate, schedule, Path(name) / f"c{i}"))
            print(json.dumps(rows[-1]), flush=True)
    print(json.dumps({"best": max(rows, key=lambda r: r["valid_recall@50"])}), flush=True)


if __name__ == "__main__":
    main()
