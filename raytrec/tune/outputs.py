"""What a finished search leaves in its directory: the results table, plots, best config."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from raytrec.plugins import get_registry
from raytrec.tune.default_trial import default_point, find_default
from raytrec.tune.plan import Plan
from raytrec.tune.plots import write_plots
from raytrec.tune.results import (
    BEST_CONFIG,
    BEST_SUMMARY,
    RESULTS,
    Trial,
    best_trial,
    best_value,
    epochs_run,
    table,
)
from raytrec.tune.trial import trial_threads


def write_outputs(trials: list[Trial], plan: Plan, tune_dir: Path) -> dict[str, Any]:
    """results.{parquet,csv}, best.yaml, best.json and plots/; returns best.json's content."""
    frame = table(trials, plan)
    _replace(tune_dir / f"{RESULTS}.parquet", lambda p: frame.to_parquet(p, index=False))
    _replace(tune_dir / f"{RESULTS}.csv", lambda p: frame.to_csv(p, index=False))
    write_plots(trials, plan, tune_dir / "plots")
    best = best_trial(trials, plan)
    config, notes = plan.trial_config(best.values)
    # The trial's thread count too: sums over another number of threads round differently,
    # and over dozens of epochs that moves the metric by up to about 1%.
    config = config.replace(train=replace(config.train, threads=trial_threads(plan, config)))
    _replace(tune_dir / BEST_CONFIG, lambda p: p.write_text(
        f"# raytrec train {tune_dir / BEST_CONFIG}\n"
        f"# The best trial ({best.trial_id}) of the search in {tune_dir}.\n"
        + config.to_yaml()))
    summary = {
        "trial_id": best.trial_id,
        "params": best.values,
        "notes": notes,
        "best_epoch": best.last.get("best_epoch"),
        "valid": {k.removeprefix("valid/"): v for k, v in best.last.items()
                  if k.startswith("valid/")},
        "test": {k.removeprefix("test/"): v for k, v in best.last.items()
                 if k.startswith("test/")},
        "trials": len(trials),
        "stopped_early": sum(t.status == "stopped" for t in trials),
        "errors": sum(t.status == "error" for t in trials),
        "default": _default(trials, plan),
        "baseline": _baseline(tune_dir / "data", plan),
    }
    if get_registry().build("task", plan.base.task).uses_retriever:
        summary["retriever"] = config.retriever.to_dict()  # the index its metrics came through
    _replace(tune_dir / BEST_SUMMARY, lambda p: p.write_text(json.dumps(summary, indent=2)))
    return summary


def _default(trials: list[Trial], plan: Plan) -> dict[str, Any]:
    """How the config's own values did (``raytrec.tune.default_trial``), or why no trial ran
    them."""
    if not plan.settings.include_default:
        return {"missing": "tune.include_default is false"}
    point, why = default_point(plan)
    if point is None:
        return {"missing": why}
    trial = find_default(trials, plan)
    if trial is None:
        return {"missing": "the search ended before the trial of the config's own values ran"}
    found: dict[str, Any] = {"trial_id": trial.trial_id, "status": trial.status,
                             "valid": best_value(trial, plan), "epochs_run": epochs_run(trial)}
    if trial.status == "finished":
        found["test"] = {k.removeprefix("test/"): v for k, v in trial.last.items()
                         if k.startswith("test/")}
    return found


def _baseline(data_dir: Path, plan: Plan) -> dict[str, Any]:
    """The task's first quick baseline (popularity for the user-item task) on valid and
    test: the yardstick of the search's verdict."""
    task = get_registry().build("task", plan.base.task)
    found = {split: task.baselines(data_dir, plan.base, split, quick=True).metrics
             for split in ("valid", "test")}
    if not found["test"]:
        return {}
    name = next(iter(found["test"]))
    return {"name": name, "valid": found["valid"][name], "test": found["test"][name]}


def _replace(path: Path, write: Any) -> None:
    """Write next to ``path``, then swap it in: never a half-written output."""
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    tmp.replace(path)
