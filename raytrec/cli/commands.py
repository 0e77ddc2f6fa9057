"""What each subcommand does; ``main`` handles parsing and errors."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from raytrec.cli.progress import ProgressWatcher
from raytrec.cli.tables import (
    describe_retriever,
    index_table,
    metrics_table,
    plugins_rows,
    plugins_table,
    recommendations_table,
)
from raytrec.errors import Interrupted, RaytrecError
from raytrec.plugins import get_registry
from raytrec.run import remote, run_dir

if TYPE_CHECKING:
    from raytrec.serve.recommend import NewUsers, Source
    from raytrec.tune.plan import Plan


def train(args: argparse.Namespace, console: Console) -> int:
    from raytrec.run.job import create_job, load_job
    from raytrec.run.launch import check_resumable, has_checkpoint, resume_point, run_job

    _check_resume_args(args, "train", "RUN_DIR")
    if args.resume:
        job = load_job(remote.readable(args.resume, "--resume"))
        for note in check_resumable(job.run_dir):
            console.print(f"note: {note}", soft_wrap=True)
        start = resume_point(job.run_dir)
        if isinstance(start, Path) and remote.uri_of(job.run_dir):  # the mirror's, as at
            start = remote.joined(remote.location(job.run_dir),  # the URI
                                  str(start.relative_to(job.run_dir)))
        console.print(f"resuming from {start}" if start else "no checkpoint yet: the run "
                      "starts from its first epoch", soft_wrap=True)
    else:
        job = create_job(args.config, args.overrides, args.run_dir, args.overwrite)
        _print_data(console, job.data_dir)
    where = remote.location(job.run_dir)
    console.print(f"run directory: {where}" + (f" (working copy {job.run_dir})" if where !=
                                                 str(job.run_dir) else ""), soft_wrap=True)
    cfg = job.config
    keep = bool(args.resume)  # a run the user resumed is never removed
    try:
        with _interruptible("train", job.run_dir), \
                run_dir.outcome(job.run_dir, lambda: keep or has_checkpoint(job.run_dir)), \
                ProgressWatcher(job.run_dir, cfg["train"]["epochs"], cfg["eval"]["metric"],
                                console):
            summary = run_job(job)
        _print_summary(console, job.run_dir, summary, cfg)
    finally:
        remote.forget(job.run_dir)
    return 0


@contextmanager
def _interruptible(command: str, directory: Path) -> Iterator[None]:
    """Ctrl-C (or Ray's SIGINT handler's ``sys.exit``) becomes a message that says how to go
    on."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit) as exc:
        old = run_dir.replaced(directory)
        kept = f" (the run it replaces is kept in {old} until then)" if old else ""
        raise Interrupted(f"interrupted; continue with raytrec {command} --resume "
                          f"{remote.location(directory)}{kept}") from exc


def _print_data(console: Console, data_dir: Path) -> None:
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


def _check_resume_args(args: argparse.Namespace, what: str, directory: str) -> None:
    if bool(args.config) == bool(args.resume):
        raise RaytrecError(f"give either a CONFIG to {what} or --resume {directory}, not both "
                           "or neither")
    if args.resume and (args.overrides or args.run_dir):
        raise RaytrecError(f"--resume continues a {'run' if what == 'train' else what} as it "
                           "was configured; it takes no --set or --run-dir")


def _print_summary(console: Console, run_dir: Path, summary: dict, config: dict) -> None:
    from raytrec.train.build import build_task

    task = build_task(config)
    ks = list(config["eval"]["ks"])
    title = (f"test metrics (best epoch {summary['best_epoch']} of {summary['epochs_run']}; "
             f"{_scored_how(summary)})")
    baselines = task.baselines(run_dir / "data", config, "test")
    columns = {"model": summary["test"], **baselines.metrics}
    columns.update({f"model, {label}": summary[key] for key, label in task.group_labels.items()
                    if key in summary})
    console.print(metrics_table(title, columns, ks))
    for note in baselines.notes:
        console.print(note, soft_wrap=True)
    console.print(f"metrics: {remote.joined(remote.location(run_dir), 'metrics.json')}",
                  soft_wrap=True)


def _scored_how(results: dict) -> str:
    """How a summary's test metrics were found: through which index, or exactly."""
    if "retriever" not in results:
        return "ranked exactly over the whole catalogue"
    return f"through {describe_retriever(results['retriever'])}"


def _search_verdict(summary: dict, metric: str) -> str:
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


def evaluate(args: argparse.Namespace, console: Console) -> int:
    from raytrec.run.job import load_job
    from raytrec.run.rescore import rescore
    from raytrec.train.build import build_task

    with remote.reading(args.run_dir) as run:
        results = rescore(run, args.overrides, args.retriever)
        labels = build_task(load_job(run).config).group_labels
    if args.json:
        console.print_json(json.dumps(results))
        return 0
    ks, index = results.pop("ks"), results.pop("index (test)", None)
    title = f"{args.run_dir} {_scored_how(results)}"
    results.pop("retriever", None)
    results = {f"test, {labels[k]}" if k in labels else k: v for k, v in results.items()}
    console.print(metrics_table(title, results, ks))
    if index is not None:
        console.print(index_table(index))
    return 0


def export(args: argparse.Namespace, console: Console) -> int:
    from raytrec.serve.export import export_run

    with remote.reading(args.run_dir) as run:
        manifest = export_run(run, Path(args.out), args.overrides, args.retriever,
                              args.overwrite)
    index = manifest["index"]
    console.print(f"exported {manifest['num_items']} items and {manifest['num_users']} users "
                  f"({manifest['distance']}, d={manifest['dim']}) to {args.out}", soft_wrap=True)
    console.print(f"index: {describe_retriever(manifest['retriever'])}, built in "
                  f"{index['build_seconds']:.2f} s"
                  + (f"; {index['file']}: {index['transform']}" if "file" in index else
                     "; built again when loaded"), soft_wrap=True)
    return 0


def recommend(args: argparse.Namespace, console: Console) -> int:
    from raytrec.serve.recommend import open_source, read_user_ids, write_new_parquet
    from raytrec.serve.recommend import recommend as top_k

    if bool(args.users) != bool(args.out):
        raise RaytrecError("--users writes its recommendations to a parquet file: give "
                           "--out FILE.parquet with it (and --out only with --users)")
    if args.out and Path(args.out).exists():
        raise RaytrecError(f"--out {args.out} already exists; raytrec does not replace files "
                           "it did not make: choose another --out or remove it yourself")
    ids = read_user_ids(Path(args.users)) if args.users else [args.user]
    with remote.reading(args.source, "RUN_DIR|EXPORT_DIR") as path:
        source = open_source(path)
        frame = top_k(source, ids, args.k, args.include_seen, _new_users(args, source))
    if args.users:
        write_new_parquet(frame, Path(args.out))
        console.print(f"{len(frame)} recommendations for {len(ids)} users "
                      f"({source.retriever_name}) in {args.out}", soft_wrap=True)
    elif args.json:
        console.print_json(frame.to_json(orient="records"))
    else:
        console.print(recommendations_table(
            f"user {args.user}: top {args.k} through {source.retriever_name}"
            + ("" if args.include_seen else ", seen items excluded"), frame))
    return 0


def _new_users(args: argparse.Namespace, source: Source) -> NewUsers | None:
    """``--user-features``: the users outside the run, served by the run's mapper."""
    from raytrec.serve.new_users import FeatureQueries, read_user_features
    from raytrec.serve.recommend import NewUsers

    if not args.user_features:
        return None
    if source.run_dir is None:
        raise RaytrecError(f"--user-features needs the run's model: give the run directory "
                           f"that {args.source} was exported from, not the export")
    path = Path(args.user_features)
    return NewUsers(read_user_features(path), FeatureQueries(source.run_dir, path))


def plugins(args: argparse.Namespace, console: Console) -> int:
    registry = get_registry()
    if args.json:
        print(json.dumps(plugins_rows(registry), indent=2))
    else:
        console.print(plugins_table(registry))
    return 0


def tune(args: argparse.Namespace, console: Console) -> int:
    from raytrec.tune.outputs import write_outputs
    from raytrec.tune.results import collect
    from raytrec.tune.search import create_search, load_search, run_search

    _check_resume_args(args, "search", "TUNE_DIR")
    if args.resume:
        search = load_search(Path(args.resume))
    else:
        search = create_search(args.config, args.overrides, args.run_dir, args.overwrite)
        _print_data(console, search.data_dir)
    console.print(f"tune directory: {search.tune_dir}", soft_wrap=True)
    plan = search.plan
    keep = bool(args.resume)
    with _interruptible("tune", search.tune_dir), \
            run_dir.outcome(search.tune_dir, lambda: keep or search.experiment_dir.is_dir()):
        grid = run_search(search, resume=bool(args.resume))
        if search.interrupted():
            raise KeyboardInterrupt
        trials = collect(grid, plan)
        summary = write_outputs(trials, plan, search.tune_dir)
    _print_search_summary(console, search.tune_dir, summary, plan)
    return 1 if summary["errors"] else 0


def _print_search_summary(console: Console, tune_dir: Path, summary: dict, plan: Plan) -> None:
    metric = plan.settings.metric
    console.print(f"{summary['trials']} trials: {summary['stopped_early']} stopped early, "
                  f"{summary['errors']} failed")
    params = ", ".join(f"{k}={v!r}" for k, v in summary["params"].items())
    console.print(f"best trial {summary['trial_id']}: {params}", soft_wrap=True)
    for note in summary["notes"]:
        console.print(f"  note: {note}", soft_wrap=True)
    ks = list(plan.base["eval"]["ks"])
    console.print(metrics_table(f"best trial (valid {metric} "
                                f"{summary['valid'][metric]:.4f} at epoch "
                                f"{summary['best_epoch']}; {_scored_how(summary)})",
                                {"valid": summary["valid"], "test": summary["test"]}, ks))
    console.print(_search_verdict(summary, metric), soft_wrap=True)
    for name in ("results.csv", "results.parquet", "best.yaml", "best.json", "plots/"):
        console.print(f"  {tune_dir / name}", soft_wrap=True)
