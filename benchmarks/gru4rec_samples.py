"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/gru4rec_samples.py [--smoke-test]
    [--data NAME,...] [--losses NAME,...] [--samples N,...] [--seed N] [--out DIR]

Seed 002's claim (GRU4Rec with top-k gains): with more extra negatives the max-losses keep
improving while TOP1 degrades past ~128. Every (data, loss, samples) trains the plugin's
example model (``plugins/raytrec-gru4rec/examples/gru4rec_*.yaml``: GRU of 100 units, batch 32,
Adagrad 0.05, constrained embedding) through ``raytrec train``'s own path in this process,
with only the loss and the sampler changed:

- samples 0: the ``in-batch`` sampler (the other 31 slots' targets);
- samples N > 0: ``mixed``, those plus N extra items shared by the batch, ∝ count^0.5;
- losses: ``top1``, ``top1-max``, ``bpr-max`` (bpreg 1) and ``infonce`` with temperature 1
  and logQ correction (GRU4Rec's cross-entropy + logQ), every other setting the same.

Each run stops on validation MRR@20 (patience as in the example, at most ``EPOCHS``
epochs); one JSON line each: test Recall@20 and MRR@20 of the best validation epoch, that
epoch, and the median training seconds per epoch. Then the best run per data set (by
validation MRR@20) against item-kNN (ties for and against the target) and popularity, how
much of the catalogue N samples reach, and
``gru4rec_samples.png`` in ``--out`` (default ``benchmarks/out``): Recall@20 and MRR@20
against samples per loss and data set, epoch seconds against samples;
``gru4rec_samples.jsonl`` beside it holds the rows.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from common.runs import emit, train
from common.setup import arguments, start_benchmark

logger = logging.getLogger("benchmarks.gru4rec_samples")

ROOT = Path(__file__).resolve().parent
EXAMPLES = ROOT.parent / "plugins" / "raytrec-gru4rec" / "examples"
DATA = {"movielens-100k-sessions": EXAMPLES / "gru4rec_ml100k_sessions.yaml",
        "yoochoose-sample": EXAMPLES / "gru4rec_yoochoose.yaml"}
EPOCHS = {"movielens-100k-sessions": 20, "yoochoose-sample": 40}
LOSSES = {"top1": "{name: top1}", "top1-max": "{name: top1-max}",
          "bpr-max": "{name: bpr-max, bpreg: 1.0}",
          "infonce+logq": "{name: infonce, temperature: 1.0, logq_correction: true}"}
SAMPLES = [0, 32, 128, 512, 2048]


def sampler(n: int) -> str:
    return "{name: in-batch}" if n == 0 else f"{{name: mixed, num_negatives: {n}, alpha: 0.5}}"


def run_one(data: str, loss: str, n: int, epochs: int, seed: int,
            tmp: Path) -> dict[str, Any]:
    overrides = [f"loss={LOSSES[loss]}", f"sampler={sampler(n)}", f"train.epochs={epochs}",
                 f"train.seed={seed}", "train.threads=1"]
    run = train(DATA[data], overrides, tmp / f"{data}-{loss}-{n}")
    best = run.summary
    seconds = [row["train/epoch_seconds"] for row in run.progress]
    return {"data": data, "loss": loss, "samples": n, "seed": seed,
            "best_epoch": best["best_epoch"],
            "epochs_run": best["epochs_run"],
            "valid_mrr@20": round(best["valid"]["mrr@20"], 4),
            "test_recall@20": round(best["test"]["recall@20"], 4),
            "test_mrr@20": round(best["test"]["mrr@20"], 4),
            "epoch_seconds": round(statistics.median(seconds), 3),
            "run_dir": str(run.run_dir)}


def baselines(run_dir: Path) -> dict[str, dict[str, float]]:
    """The task's baselines on the run's test split: item-kNN with ties counted for the target
    (as the GRU's, which has none) and against it, popularity."""
    from raytrec.plugins import get_registry
    from raytrec.run.job import load_job

    config = load_job(run_dir).config
    task = get_registry().build("task", config.task)
    found = task.baselines(run_dir / "data", config, "test", quick=True)
    return {name: {k: round(m[k], 4) for k in ("recall@20", "mrr@20")}
            for name, m in found.metrics.items()}


def coverage(run_dir: Path, samples: list[int]) -> dict[str, dict[str, float]]:
    """Per number of extra samples, how much of the catalogue one batch's draws (∝ count^0.5,
    with replacement) reach in expectation: distinct items, their share of the items and of
    the training events."""
    import numpy as np

    counts = np.load(run_dir / "data" / "item_counts.npy").astype(np.float64)
    p = counts**0.5 / (counts**0.5).sum()
    found = {}
    for n in (n for n in samples if n > 0):
        reached = 1.0 - (1.0 - p) ** n
        found[str(n)] = {"distinct_items": round(float(reached.sum())),
                         "share_of_items": round(float(reached.mean()), 3),
                         "share_of_events": round(float((counts * reached).sum() / counts.sum()),
                                                  3)}
    return found


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted({r["data"] for r in rows})
    fig, axes = plt.subplots(len(datasets), 3, figsize=(15, 4.2 * len(datasets)),
                             squeeze=False)
    for row_axes, data in zip(axes, datasets, strict=True):
        for ax, key, label in zip(row_axes, ("test_recall@20", "test_mrr@20", "epoch_seconds"),
                                  ("test Recall@20", "test MRR@20", "seconds per epoch"),
                                  strict=True):
            for loss in LOSSES:
                points = sorted((r["samples"], r[key]) for r in rows
                                if r["data"] == data and r["loss"] == loss)
                if points:
                    xs, ys = zip(*points, strict=True)
                    ax.plot([max(x, 1) for x in xs], ys, marker="o", label=loss)
            ax.set_xscale("log")
            ax.set_xticks([max(n, 1) for n in SAMPLES], [str(n) for n in SAMPLES])
            ax.set_xlabel("extra negatives per batch (0: in-batch only)")
            ax.set_title(f"{data}: {label}")
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true",
                        help="the Yoochoose sample, two losses, samples 0 and 32, 2 epochs")
    parser.add_argument("--data", default=",".join(DATA))
    parser.add_argument("--losses", default=",".join(LOSSES))
    parser.add_argument("--samples", default=",".join(map(str, SAMPLES)))
    parser.add_argument("--seed", type=int, default=0,
                        help="train.seed of every run (initialisation, session order, samples)")
    parser.add_argument("--out", type=Path, default=ROOT / "out")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    start_benchmark()
    data = args.data.split(",")
    losses, samples = args.losses.split(","), [int(n) for n in args.samples.split(",")]
    if args.smoke_test:
        data, losses, samples = ["yoochoose-sample"], ["top1", "bpr-max"], [0, 32]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="raytrec-gru4rec-") as tmp:
        for name in data:
            epochs = 2 if args.smoke_test else EPOCHS[name]
            for loss in losses:
                for n in samples:
                    rows.append(run_one(name, loss, n, epochs, args.seed, Path(tmp)))
                    emit(rows[-1])
            best = max((r for r in rows if r["data"] == name), key=lambda r: r["valid_mrr@20"])
            emit({"data": name, "best": {k: best[k] for k in ("loss", "samples",
                                                               "test_recall@20",
                                                               "test_mrr@20")},
                  **baselines(Path(best["run_dir"]))})
            emit({"data": name, "coverage": coverage(Path(best["run_dir"]), samples)})
    for row in rows:
        row.pop("run_dir")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gru4rec_samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    plot(rows, args.out / "gru4rec_samples.png")
    logger.info("wrote %s", args.out / "gru4rec_samples.png")


if __name__ == "__main__":
    sys.exit(main())
