"""A Train V2 callback that records rank 0's metrics in the run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray.train import UserCallback

from raytrec.train.session import append_progress


class ProgressCallback(UserCallback):
    """Runs on the Train controller, which Ray places on the driver's node."""

    def __init__(self, run_dir: str) -> None:
        self.run_dir = run_dir

    def after_report(self, run_context: Any, metrics: list[dict[str, Any]],
                     checkpoint: Any) -> None:
        if metrics:
            append_progress(Path(self.run_dir), metrics[0])
