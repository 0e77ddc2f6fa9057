"""What a search leaves in its directory: the trials table, the best config, its test scores."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from raytrec.errors import RunDirError
from raytrec.tune.plan import Plan

RESULTS = "results"
BEST_CONFIG = "best.yaml"
BEST_SUMMARY = "best.json"


@dataclass
class Trial:
    """One trial as the outputs need it."""

    trial_id: str
    values: dict[str, Any]  # config values of the searched keys
    curve: pd.DataFrame  # epoch and metric of every report
    status: str  # finished | stopped | error
    last: dict[str, Any]  # the last report
    wall_s: float
    error: str = ""


def collect(grid: Any, plan: Plan) -> list[Trial]:
    """The trials of Tune's ResultGrid, in the order Tune created them."""
    trials = []
    for result in grid:
        frame = result.metrics_dataframe
        frame = frame if frame is not None else pd.DataFrame()
        last = dict(result.metrics or {})
        trial_id = str(last.get("trial_id") or Path(result.path).name)
        if result.error is not None:
            status = "error"
        elif last.get("finished"):
            status = "finished"
        else:
            status = "stopped"
        columns = [c for c in ("epoch", plan.metric_key) if c in frame.columns]
        curve = frame[columns].copy() if "finished" not in frame.columns else \
            frame.loc[frame["finished"] != True, columns].copy()  # noqa: E712 (NaN rows stay)
        error = str(result.error).strip().splitlines()[-1] if result.error is not None else ""
        trials.append(Trial(trial_id, plan.decode(dict(result.config or {})), curve, status,
                            last, float(last.get("time_total_s", math.nan)), error))
    return trials


def best_value(trial: Trial, plan: Plan) -> float:
    if trial.status == "finished":
        return float(trial.last[plan.metric_key])  # the best epoch's, reported at the end
    values = trial.curve.get(plan.metric_key, pd.Series(dtype=float)).dropna()
    if values.empty:
        return math.nan
    return float(values.max() if plan.settings.mode == "max" else values.min())


def epochs_run(trial: Trial) -> int:
    """The epochs a trial reported (0 before its first)."""
    epochs = trial.curve["epoch"].max() if "epoch" in trial.curve else 0
    return int(epochs) if epochs == epochs else 0  # NaN: no epoch reported


def table(trials: list[Trial], plan: Plan) -> pd.DataFrame:
    rows = []
    for trial in trials:
        _, notes = plan.trial_config(trial.values)
        rows.append({
            "trial_id": trial.trial_id,
            **{k: _cell(trial.values.get(k)) for k in plan.by_key},
            f"best_{plan.settings.metric}": best_value(trial, plan),
            "best_epoch": trial.last.get("best_epoch") if trial.status == "finished" else None,
            "epochs_run": epochs_run(trial),
            "status": trial.status,
            "stopped_early": trial.status == "stopped",
            "wall_s": round(trial.wall_s, 2),
            "notes": "; ".join(notes),
            "error": trial.error,
        })
    frame = pd.DataFrame(rows)
    frame["best_epoch"] = frame["best_epoch"].astype("Int64")  # empty for unfinished trials
    return frame


def _cell(value: Any) -> Any:
    """Lists and mappings as JSON so that every column has one type."""
    return json.dumps(value) if isinstance(value, list | dict) else value


def best_trial(trials: list[Trial], plan: Plan) -> Trial:
    finished = [t for t in trials if t.status == "finished"]
    budget = plan.settings.time_budget_s
    if not finished and budget is not None and any(t.status == "stopped" for t in trials):
        raise RunDirError(f"no trial finished within tune.time_budget_s ({budget:g} s), so "
                          "there is no best configuration; raise the budget (or lower "
                          "train.epochs) and start the search again")
    if not finished:
        raise RunDirError("no trial finished, so there is no best configuration; see the "
                          "errors in the results table")
    sign = 1.0 if plan.settings.mode == "max" else -1.0
    return max(finished, key=lambda t: sign * best_value(t, plan))
