"""A live table of trials in the terminal, fed by Tune's callbacks on the driver."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ray.tune import Callback
from rich.console import Console
from rich.live import Live
from rich.table import Table

from raytrec.tune.plan import Plan

MAX_ROWS = 24


class LiveTable(Callback):
    """One row per trial: status, its draws, epoch, last and best metric. Off a terminal (a
    job's log, a pipe), one line per trial as it ends instead."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.rows: dict[str, dict[str, Any]] = {}
        self._live: Live | None = None
        self._console: Console | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its callbacks with the experiment; the terminal does not travel.
        return {"plan": self.plan, "rows": {}, "_live": None, "_console": None}

    def setup(self, **info: Any) -> None:
        self._console = Console()
        if not self._console.is_terminal:
            return
        self._live = Live(self._table(), console=self._console, refresh_per_second=2,
                          transient=False)
        self._live.start()

    def _row(self, trial: Any) -> dict[str, Any]:
        if trial.trial_id not in self.rows:
            self.rows[trial.trial_id] = {"status": "pending", "epoch": 0, "last": None,
                                         "best": None, "config": self.plan.decode(trial.config)}
        return self.rows[trial.trial_id]

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._row(trial)["status"] = "running"
        self._refresh()

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict,
                        **info: Any) -> None:
        row = self._row(trial)
        value = result.get(self.plan.metric_key)
        row["epoch"] = result.get("epoch", row["epoch"])
        if value is not None and not result.get("finished"):
            row["last"] = value
            better = max if self.plan.settings.mode == "max" else min
            row["best"] = value if row["best"] is None else better(row["best"], value)
        if result.get("finished"):
            row["status"] = "finished"
        self._refresh()

    def on_trial_complete(self, iteration: int, trials: list, trial: Any,
                          **info: Any) -> None:
        row = self._row(trial)
        if row["status"] != "finished":
            row["status"] = "stopped"
        self._refresh()
        self._line(trial.trial_id, row)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        row = self._row(trial)
        row["status"] = "error"
        self._refresh()
        self._line(trial.trial_id, row)

    def _line(self, trial_id: str, row: dict[str, Any]) -> None:
        """Off a terminal: the trial that ended, in one line."""
        if self._live is not None or self._console is None:
            return
        metric = self.plan.settings.metric
        done = sum(r["status"] in ("finished", "stopped", "error") for r in self.rows.values())
        draws = " ".join(f"{p.key}={_show(row['config'].get(p.key))}" for p in self.plan.params)
        self._console.print(
            f"trial {trial_id} {row['status']} after {row['epoch']} epochs: best {metric} "
            f"{_show(row['best'])}  {draws}  ({done} of {self.plan.settings.num_samples} "
            "done)", soft_wrap=True, markup=False, highlight=False)

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.stop()
            self._live = None

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._table())

    def _table(self) -> Table:
        metric = self.plan.settings.metric
        table = Table(title=f"trials (valid {metric}, {self.plan.settings.mode})",
                      title_justify="left")
        keys = [p.key for p in self.plan.params]
        for name in ["trial", "status", *keys, "epoch", metric, f"best {metric}"]:
            table.add_column(name, justify="left" if name in ("trial", "status") else "right")
        rows = list(self.rows.items())
        if len(rows) > MAX_ROWS:  # the running ones and the latest others
            running = [r for r in rows if r[1]["status"] == "running"]
            rows = (running + [r for r in rows if r not in running][-(MAX_ROWS - len(running)):])
        for trial_id, row in rows:
            table.add_row(trial_id, row["status"],
                          *(_show(row["config"].get(k)) for k in keys), str(row["epoch"]),
                          _show(row["last"]), _show(row["best"]))
        done = sum(r["status"] in ("finished", "stopped", "error") for r in self.rows.values())
        table.caption = f"{done} of {self.plan.settings.num_samples} trials done"
        return table


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class CompletionLog(Callback):
    """Records each trial that ended (finished, stopped by the scheduler, or failed).

    An interrupted search ends its running trials without this event, which is how the
    driver tells an interruption from a scheduler's stop; the file outlives the process, so
    a resumed search counts the trials of every session.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def _write(self, trial: Any, event: str) -> None:
        with open(self.path, "a") as fh:
            fh.write(json.dumps({"trial_id": trial.trial_id, "event": event}) + "\n")

    def on_trial_complete(self, iteration: int, trials: list, trial: Any,
                          **info: Any) -> None:
        self._write(trial, "complete")

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._write(trial, "error")


def ended_trials(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    return {json.loads(line)["trial_id"] for line in path.read_text().splitlines() if line}
