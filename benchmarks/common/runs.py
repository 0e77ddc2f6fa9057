"""Training an example config in a temporary run directory, and what the run reported."""

from __future__ import annotations

import json
import logging
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CML_CONFIG = ROOT / "examples" / "cml_ml100k.yaml"
BPR_CONFIG = ROOT / "examples" / "bpr_ml100k.yaml"
IN_PROCESS = ["scaling.num_workers=0"]

logger = logging.getLogger("benchmarks.runs")


@dataclass
class Run:
    """A finished training run."""

    run_dir: Path
    summary: dict[str, Any]
    fit_seconds: float
    progress: list[dict[str, Any]]  # one row per epoch, with the wall-clock ``time`` it was written
    started: float  # wall-clock time.time() when the fit started

    def epoch_values(self, key: str) -> list[float]:
        return [row[key] for row in self.progress if key in row]


def train(config: Path, overrides: list[str], run_dir: Path) -> Run:
    """Prepare data and train ``config`` into ``run_dir``; the fit is timed, not preparation."""
    from raytrec.run.job import create_job
    from raytrec.run.launch import run_job

    job = create_job(config, overrides, run_dir, overwrite=True)
    started, start = time.time(), time.perf_counter()
    summary = run_job(job)
    seconds = time.perf_counter() - start
    logger.info("%s %s: %.1f s, best epoch %s", config.name, " ".join(overrides), seconds,
                summary["best_epoch"])
    return Run(run_dir, summary, seconds, read_progress(run_dir), started)


def read_progress(run_dir: Path) -> list[dict[str, Any]]:
    """The per-epoch rows of ``progress.jsonl`` (the final test row has no ``train/`` keys)."""
    rows = [json.loads(line) for line in (run_dir / "progress.jsonl").read_text().splitlines()
            if line.strip()]
    return [row for row in rows if "train/epoch_seconds" in row]


def median_epoch_seconds(run: Run) -> float:
    """Median ``train/epoch_seconds`` of epochs 2+ (all epochs when there is only one)."""
    seconds = run.epoch_values("train/epoch_seconds")
    return statistics.median(seconds[1:] or seconds)


def emit(row: dict[str, Any]) -> None:
    """One JSON line of results on stdout (logs go to stderr)."""
    print(json.dumps(row), flush=True)
