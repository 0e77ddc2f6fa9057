"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/workers.py [--smoke-test] [--epochs N]

What a second worker adds, through Ray Train: the CML config (examples/cml_ml100k.yaml, d=100,
with U=20 candidates) on two synthetic data sets (``DATA``: MovieLens-1M-sized tables, and a
1M-item catalogue), each trained by 1 worker of 1 CPU and by 2 workers of 1 CPU, in one run,
with ``train.sparse`` at its default (row-sparse ID tables). On the MovieLens-1M-sized tables
the 2-worker fit runs once more with ``train.sparse: false`` (whole tables under DDP), for the
bytes a worker receives per step either way.

One JSON line per fit: median ``train/epoch_seconds`` of epochs 2+ (the first warms up),
global positives/s (training positives / epoch seconds), ``exchange_mb_per_step`` (what each
worker received per step for the gradient exchange, from ``progress.jsonl``), the share of
the epoch spent exchanging ID-table rows (waits for the other worker included; DDP's
all-reduce runs inside backward and is not counted), peak RSS per worker, and ``cpu_cores``:
the CPU the Train workers (each, and together), Ray's other processes and everything else
used over the fit, in cores (``common/cpu_share.py``; start-up and evaluation included); then one
``speed-up`` line per data set: 1-worker epoch seconds / 2-worker epoch seconds. Validation
runs once, after the last epoch, on 2,000 users. Only ratios within one run mean anything on
a shared machine.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
from pathlib import Path
from typing import Any

from common.cpu_share import cpu_share
from common.runs import CML_CONFIG, Run, emit, median_epoch_seconds, train
from common.setup import arguments, start_benchmark

logger = logging.getLogger("benchmarks.workers")

DATA = {
    "ml1m-sized": "data={name: synthetic, num_users: 6040, num_items: 3706, "
                  "interactions_per_user: 165.6, seed: 0}",
    "1m-items": "data={name: synthetic, num_users: 100000, num_items: 1000000, "
                "interactions_per_user: 20, seed: 0}",
}
SMOKE_DATA = {"tiny": "data={name: synthetic, num_users: 300, num_items: 2000, seed: 0}"}
LAYOUTS = {
    "1_worker": ["scaling.num_workers=1", "scaling.cpus_per_worker=1"],
    "2_workers": ["scaling.num_workers=2", "scaling.cpus_per_worker=1"],
}


def fit_row(name: str, layout: str, sparse: str, run: Run,
            cores: dict[str, float]) -> dict[str, Any]:
    seconds = median_epoch_seconds(run)
    num_train = _num_train(run)
    last = run.progress[-1]
    exchanged = run.epoch_values("train/exchange_mb_per_step")
    return {"data": name, "layout": layout, "sparse": sparse,
            "median_epoch_seconds": round(seconds, 3),
            "positives_per_s": round(num_train / seconds, 1),
            "exchange_mb_per_step": round(statistics.median(exchanged), 4) if exchanged else 0.0,
            "exchange_share_of_epoch": round(statistics.median(
                [row.get("train/exchange_seconds", 0.0) / row["train/epoch_seconds"]
                 for row in run.progress[1:] or run.progress]), 3),
            "peak_rss_mb_by_rank": last.get("peak_rss_mb_by_rank", [last.get("peak_rss_mb")]),
            "epochs": len(run.progress), "fit_seconds": round(run.fit_seconds, 1),
            "cpu_cores": cores}


def _num_train(run: Run) -> int:
    from raytrec.data.store import read_training_info

    return read_training_info(run.run_dir / "data").num_train


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true", help="tiny data, 2 epochs")
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args(argv)
    start_benchmark()
    data, epochs = (SMOKE_DATA, 2) if args.smoke_test else (DATA, args.epochs)
    common = [f"train.epochs={epochs}", "train.patience=null", f"eval.every={epochs}",
              "eval.max_users=2000", "sampler.num_negatives=20"]
    with tempfile.TemporaryDirectory(prefix="raytrec-workers-") as tmp:
        for name, source in data.items():
            seconds = {}
            fits = [(layout, "auto") for layout in LAYOUTS]
            if name != "1m-items":  # whole tables under DDP take minutes an epoch there
                fits.append(("2_workers", "false"))
            for layout, sparse in fits:
                run_dir = Path(tmp) / f"{name}-{layout}-{sparse}"
                cores: dict[str, float] = {}
                with cpu_share(cores):
                    run = train(CML_CONFIG, [source, *common, *LAYOUTS[layout],
                                             f"train.sparse={sparse}"], run_dir)
                row = fit_row(name, layout, sparse, run, cores)
                emit(row)
                if sparse == "auto":
                    seconds[layout] = row["median_epoch_seconds"]
            emit({"data": name, "speed_up_2_workers": round(
                seconds["1_worker"] / seconds["2_workers"], 3), **seconds})


if __name__ == "__main__":
    main()
