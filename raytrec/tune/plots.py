"""PNG plots of a search: the metric against each searched key, and every learning curve."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from raytrec.tune.plan import Plan
from raytrec.tune.results import Trial, best_value
from raytrec.tune.space import Param

MARKERS = {"finished": ("o", "tab:blue"), "stopped": ("x", "tab:red"),
           "error": ("s", "tab:gray")}


def write_plots(trials: list[Trial], plan: Plan, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = [_learning_curves(trials, plan, directory / "learning_curves.png")]
    for param in plan.params:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", param.key)
        written.append(_metric_vs(trials, plan, param, directory / f"metric_vs_{name}.png"))
    return written


def _metric_vs(trials: list[Trial], plan: Plan, param: Param, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    categorical = param.kind == "choice"
    labels = [json.dumps(v) if isinstance(v, list | dict) else str(v) for v in param.args]
    for status, (marker, color) in MARKERS.items():
        shown = [t for t in trials if t.status == status and param.key in t.values]
        if not shown:
            continue
        xs = [_position(t.values[param.key], labels) if categorical
              else t.values[param.key] for t in shown]
        ys = [best_value(t, plan) for t in shown]
        label = {"stopped": "stopped early"}.get(status, status)
        ax.scatter(xs, ys, marker=marker, color=color, label=label)
    if categorical:
        ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 4 else 0)
    elif param.log:
        ax.set_xscale("log")
    return _save(fig, ax, path, param.key, f"best valid {plan.settings.metric}",
                 f"{plan.settings.metric} vs {param.key}")


def _position(value: Any, labels: list[str]) -> int:
    shown = json.dumps(value) if isinstance(value, list | dict) else str(value)
    return labels.index(shown)


def _learning_curves(trials: list[Trial], plan: Plan, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    key = plan.metric_key
    for trial in trials:
        curve = trial.curve.dropna(subset=[key]) if key in trial.curve else trial.curve
        if curve.empty or key not in curve:
            continue
        stopped = trial.status == "stopped"
        line, = ax.plot(curve["epoch"], curve[key], linestyle="--" if stopped else "-",
                        linewidth=1, alpha=0.8)
        if stopped:
            ax.plot(curve["epoch"].iloc[-1], curve[key].iloc[-1], marker="x", markersize=8,
                    color=line.get_color())
    ax.plot([], [], "k--x", label="stopped early (ASHA)")
    ax.plot([], [], "k-", label="ran to its end")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _save(fig, ax, path, "epoch", f"valid {plan.settings.metric}",
                 f"learning curves of {len(trials)} trials")


def _save(fig: Any, ax: Any, path: Path, xlabel: str, ylabel: str, title: str) -> Path:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
