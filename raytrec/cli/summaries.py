"""What ``train``, ``tune`` and ``export`` print once their work is done: the data they
prepared, the test metrics beside the task's baselines, a search's verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from raytrec.cli.tables import describe_retriever, metrics_table
from raytrec.run import uri

if TYPE_CHECKING:
    from raytrec.config.run_config import RunConfig
    from raytrec.tasks.base import Baselines
    from raytrec.tune.plan import Plan


def print_data(console: Console, data_dir: Path) -> None:
    """What preparation made of the data, including what it left out or merged."""
    info = json.loads((data_dir / "info.json").read_text())
    split = " / ".join(f"{n} {name}" for name, n in info["num_interactions"].items())
    # A task whose queries are not users names them (the session task: training sessions).
    queries = info.get("queries", "users")
    console.print(f"data: {info['num_users']} {queries}, {info['num_items']} items, "
                  f"interactions {split}", soft_wrap=True)
    for reason, n in info.get("dropped", {}).items():
        if n:
            console.print(f"  {reason}: {n} rows", soft_wrap=True)
    for kind, found in info.get("features", {}).items():
        if found["ids_without_row"]:
            console.print(f"  {kind} features: no row for {found['ids_without_row']} "
                          f"{kind}s (e.g. {', '.join(found['examples'])})", soft_wrap=True)
        if found.get("written_differently"):
            console.print(f"  warning: {found['written_differently']} of them have a row "
                          "under the same number written another way (1 and 1.0, or 01): "
                          "their ids were read as numbers in one file and as text in the "
                          "other; write the ids alike in both files", soft_wrap=True)
    for note in info.get("notes", []):
        console.print(f"  warning: {note}", soft_wrap=True)


def test_baselines(run_dir: Path, config: RunConfig) -> Baselines:
    """The task's baselines on the run's test split."""
    from raytrec.plugins import get_registry

    return get_registry().build("task", config.task).baselines(run_dir / "data", config,
                                                               "test")


def print_summary(console: Console, run_dir: Path, summary: dict, config: RunConfig,
                  baselines: Baselines | None = None) -> None:
    from raytrec.plugins import get_registry

    task = get_registry().build("task", config.task)
    ks = list(config.eval.ks)
    title = (f"test metrics (best epoch {summary['best_epoch']} of {summary['epochs_run']}; "
             f"{scored_how(summary)})")
    if baselines is None:
        baselines = test_baselines(run_dir, config)
    columns = {"model": summary["test"], **baselines.metrics}
    columns.update({f"model, {label}": summary[key] for key, label in task.group_labels.items()
                    if key in summary})
    console.print(metrics_table(title, columns, ks))
    for note in baselines.notes:
        console.print(note, soft_wrap=True)
    console.print(f"metrics: {uri.joined(uri.location(run_dir), 'metrics.json')}",
                  soft_wrap=True)


def scored_how(results: dict) -> str:
    """How a summary's test metrics were found: through which index, or exactly."""
    if "retriever" not in results:
        return "ranked exactly over the whole catalogue"
    return f"through {describe_retriever(results['retriever'])}"


def search_verdict(summary: dict, metric: str) -> str:
    """The best trial against the config as given and against the task's baseline."""
    best, popular = summary["valid"][metric], summary.get("baseline", {})
    lines = [f"valid {metric}: best trial {best:.4f}"]
    default = summary["default"]
    if "missing" in default:
        lines.append(f"  the config as given: not among the trials ({default['missing']})")
    else:
        value, trial = default["valid"], f"trial {default['trial_id']}"
        if default["status"] == "finished":
            gain = f", {(best / value - 1) * 100:+.0f}% for the search" if value > 0 else ""
            lines.append(f"  the config as given ({trial}): {value:.4f} (test "
                         f"{default['test'][metric]:.4f}{gain})")
        else:  # stopped by the scheduler or the budget, or failed: its best so far
            how = "failed" if default["status"] == "error" else "was stopped"
            lines.append(f"  the config as given ({trial}): {value:.4f} when it {how} after "
                         f"{default['epochs_run']} epochs, a lower bound of what it reaches")
    if popular:
        lines.append(f"  {popular['name']}: {popular['valid'][metric]:.4f} (test "
                     f"{popular['test'][metric]:.4f} against the best trial's "
                     f"{summary['test'][metric]:.4f})")
    return "\n".join(lines)


def print_search_summary(console: Console, tune_dir: Path, summary: dict, plan: Plan) -> None:
    metric = plan.settings.metric
    console.print(f"{summary['trials']} trials: {summary['stopped_early']} stopped early, "
                  f"{summary['errors']} failed")
    params = ", ".join(f"{k}={v!r}" for k, v in summary["params"].items())
    console.print(f"best trial {summary['trial_id']}: {params}", soft_wrap=True)
    for note in summary["notes"]:
        console.print(f"  note: {note}", soft_wrap=True)
    ks = list(plan.base.eval.ks)
    console.print(metrics_table(f"best trial (valid {metric} "
                                f"{summary['valid'][metric]:.4f} at epoch "
                                f"{summary['best_epoch']}; {scored_how(summary)})",
                                {"valid": summary["valid"], "test": summary["test"]}, ks))
    console.print(search_verdict(summary, metric), soft_wrap=True)
    for name in ("results.csv", "results.parquet", "best.yaml", "best.json", "plots/"):
        console.print(f"  {tune_dir / name}", soft_wrap=True)
def print_export(console: Console, manifest: dict, out: str) -> None:
    index = manifest["index"]
    console.print(f"exported {manifest['num_items']} items and {manifest['num_users']} users "
                  f"({manifest['distance']}, d={manifest['dim']}) to {out}", soft_wrap=True)
    console.print(f"index: {describe_retriever(manifest['retriever'])}, built in "
                  f"{index['build_seconds']:.2f} s"
                  + (f"; {index['file']}: {index['transform']}" if "file" in index else
                     "; built again when loaded"), soft_wrap=True)


