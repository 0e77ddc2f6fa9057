"""A Train V2 callback that records rank 0's metrics in the run directory, with every
worker's peak memory (published to the run's URI when it has one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray.train import UserCallback

from raytrec.layout import PROGRESS_FILE
from raytrec.run.store import RunStore
from raytrec.train.session import append_progress


class ProgressCallback(UserCallback):
    """Runs on the Train controller, which Ray places on the driver's node."""

    def __init__(self, run_dir: str) -> None:
        self.run_dir = run_dir

    def after_report(self, run_context: Any, metrics: list[dict[str, Any]],
                     checkpoint: Any) -> None:
        if not metrics:
            return
        row = dict(metrics[0])
        if len(metrics) > 1 and "peak_rss_mb" in row:
            row["peak_rss_mb_by_rank"] = [m.get("peak_rss_mb") for m in metrics]
        append_progress(Path(self.run_dir), row)
        RunStore.open(self.run_dir).publish_quietly(PROGRESS_FILE)
