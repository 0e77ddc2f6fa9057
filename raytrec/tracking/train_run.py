"""A ``raytrec train`` run tracked from its driver.

The driver follows the run's progress file (``progress.jsonl``: rank 0's metrics, one line an
epoch, written by the in-process loop or the Ray Train controller) in a thread and logs each
epoch with the epoch as step; at the end it logs the test metrics with the baselines beside
them. ``tracking.json`` in the run directory keeps the tracked run's id and the last step
logged, so that ``raytrec train --resume`` continues the same tracked run from there.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from raytrec.config.run_config import RunConfig
from raytrec.run.progress_file import ProgressTail
from raytrec.run.store import RunStore
from raytrec.tracking.names import flat_params, numbers, plugin_tags
from raytrec.tracking.tracker import Tracker, open_tracker

STATE_FILE = "tracking.json"
POLL_S = 1.0


class TrainTracking:
    """For the length of a run: its tracked run (or nothing, for ``backend: none`` or a
    backend that cannot start)."""

    def __init__(self, run_dir: Path, config: RunConfig, experiment: str, where: str) -> None:
        self.run_dir, self.config = Path(run_dir), config
        self._tail = ProgressTail(self.run_dir)
        state = _read_state(self.run_dir)
        section = config.tracking
        same = state.get("backend") == section.backend and state.get("uri") == section.uri
        self.step = int(state.get("step", 0)) if same else 0
        run_id = state.get("run_id") if same else None
        log_dir = section.directory or str(self.run_dir / "tensorboard")
        self.tracker: Tracker | None = open_tracker(  # named as the user named the run
            section, Path(where.rstrip("/")).name, experiment, where, log_dir, run_id,
            next_step=self.step + 1 if run_id else 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        if self.tracker is None:
            return
        if run_id is None:
            self.tracker.log_params(flat_params(config))
            self.tracker.set_tags({"raytrec.run_dir": where, **plugin_tags()})
        self._save()

    def __enter__(self) -> TrainTracking:
        if self.tracker is not None:
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: Any) -> None:
        if self.tracker is None:
            return
        self._stop.set()
        self._thread.join(timeout=10)
        self._poll()
        if kind is not None:
            self.tracker.finish("KILLED" if issubclass(kind, KeyboardInterrupt) else "FAILED")
        self._save()

    def finished(self, summary: dict[str, Any], baselines: dict[str, dict[str, float]]) -> None:
        """Log a finished run's test metrics (``summary``, what ``metrics.json`` holds) and the
        baselines' beside them (``baseline/<name>/…``), at the last epoch's step, and end
        the tracked run."""
        if self.tracker is None:
            return
        self._poll()
        step = max(self.step, int(summary.get("epochs_run", 0)))
        final = numbers({k: v for k, v in summary.items() if k.startswith("test")})
        for name, metrics in baselines.items():
            final.update(numbers(metrics, f"baseline/{name}/test/"))
        if "best_epoch" in summary:
            final["best_epoch"] = float(summary["best_epoch"])
        self.tracker.log_metrics(final, step)
        self.tracker.finish("FINISHED")
        self._save()

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            self._poll()

    def _poll(self) -> None:
        assert self.tracker is not None
        for row in self._tail.rows():
            epoch = row.get("epoch")
            if not isinstance(epoch, int) or row.get("finished") or epoch <= self.step:
                continue
            self.tracker.log_metrics(numbers(row), epoch)
            self.step = epoch

    def _save(self) -> None:
        assert self.tracker is not None
        section = self.config.tracking
        state = {"backend": section.backend, "uri": section.uri,
                 "run_id": self.tracker.run_id, "step": self.step}
        tmp = self.run_dir / (STATE_FILE + ".tmp")
        try:
            tmp.write_text(json.dumps(state, indent=2))
            tmp.replace(self.run_dir / STATE_FILE)
        except OSError:  # a full disk: the next resume starts a new tracked run
            tmp.unlink(missing_ok=True)
            return
        RunStore.open(self.run_dir).publish_quietly(STATE_FILE)  # a run at a URI keeps it


def _read_state(run_dir: Path) -> dict[str, Any]:
    try:
        found = json.loads((run_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}
