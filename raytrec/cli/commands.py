"""What each subcommand does; ``main`` handles parsing and errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from raytrec import scratch
from raytrec.cli.arguments import user_path
from raytrec.cli.progress import ProgressWatcher, preparing
from raytrec.cli.summaries import (
    print_data,
    print_export,
    print_search_summary,
    print_summary,
    scored_how,
    test_baselines,
)
from raytrec.cli.tables import (
    index_table,
    metrics_table,
    plugins_rows,
    plugins_table,
    recommendations_table,
)
from raytrec.cli.writing import claimed, interruptible, written
from raytrec.config.run_config import PLACEMENT_KEYS, is_placement
from raytrec.disk import FULL, full
from raytrec.errors import RaytrecError, RunDirError
from raytrec.plugins import get_registry
from raytrec.run import leftovers, mirror, run_dir, uri
from raytrec.run.outcome import outcome
from raytrec.run.store import RunStore
from raytrec.tracking.train_run import TrainTracking

if TYPE_CHECKING:
    import pandas as pd

    from raytrec.run.job import Job
    from raytrec.serve.recommend import NewUsers, Source


def train(args: argparse.Namespace, console: Console) -> int:
    from raytrec.run.job import default_run_dir, load_job

    _check_resume_args(args, "train", "RUN_DIR")
    if args.resume is not None:
        target, flag = user_path(args.resume, "--resume") or "", "--resume"
        if not uri.is_uri(target):
            try:
                load_job(Path(target))  # a directory that is no run is refused before its lock
            except RunDirError as exc:
                _killed_preparation(target, args, exc)
                raise
    else:
        flag = "--run-dir"
        target = user_path(args.run_dir, flag) or str(default_run_dir(args.config))
        if not uri.is_uri(target):
            run_dir.check_target(Path(target), args.overwrite)  # before the lock: no write
    with claimed(target, flag, args):
        return _train(args, console, target)


def _killed_preparation(target: str, args: argparse.Namespace, exc: RunDirError) -> None:
    """``--resume`` of a run whose ``raytrec train`` was killed while it prepared the data:
    what it left beside the run is removed, and the note says to start it again."""
    if Path(target).exists() or not Path(target).parent.is_dir():
        return
    with claimed(target, "--resume", args):
        removed = leftovers.clear(Path(target))
    if removed:
        exc.add_note(f"a raytrec train of {target} was stopped while it prepared the data, "
                     f"before the run existed ({'; '.join(removed)}); start it again with "
                     f"raytrec train CONFIG --run-dir {target}")


def _train(args: argparse.Namespace, console: Console, target: str) -> int:
    from raytrec.run.job import create_job, load_job, relocate
    from raytrec.run.launch import check_resumable, has_checkpoint, run_job

    scratch.clear_temp()
    if args.resume:
        job = load_job(mirror.readable(target, "--resume"))
        if args.overrides:
            job = relocate(job, args.overrides)
        for note in [*leftovers.clear(job.run_dir), *check_resumable(job.run_dir)]:
            console.print(f"note: {note}", soft_wrap=True)
        _resume_point(console, job)
    else:
        for note in [] if uri.is_uri(target) else leftovers.clear(Path(target)):
            console.print(f"note: {note}", soft_wrap=True)
        with preparing(console):
            job = create_job(args.config, args.overrides, target, args.overwrite)
        print_data(console, job.data_dir)
    where = uri.location(job.run_dir)
    console.print(f"run directory: {where}" + (f" (working copy {job.run_dir})" if where !=
                                                 str(job.run_dir) else ""), soft_wrap=True)
    cfg = job.config
    keep = bool(args.resume)  # a run the user resumed is never removed
    experiment = Path(args.config).stem if args.config else Path(where.rstrip("/")).name
    try:
        with interruptible("train", job.run_dir), \
                outcome(job.run_dir, lambda: keep or has_checkpoint(job.run_dir)), \
                ProgressWatcher(job.run_dir, cfg.train.epochs, cfg.eval.metric,
                                console), \
                TrainTracking(job.run_dir, cfg, experiment, where) as tracking:
            summary = run_job(job)
        with written(f"the run finished; metrics in "
                     f"{uri.joined(where, 'metrics.json')}"):
            baselines = test_baselines(job.run_dir, cfg)
            tracking.finished(summary, baselines.metrics)
            print_summary(console, job.run_dir, summary, cfg, baselines)
    finally:
        RunStore.open(job.run_dir).forget()
    return 0


def _resume_point(console: Console, job: Job) -> None:
    """Say where a resumed run starts; refuse one whose config.yaml no longer matches it."""
    from raytrec.run.launch import config_changes, resume_point

    changed = config_changes(job.run_dir, job.config)
    if changed:
        where = uri.location(job.run_dir)
        raise RunDirError(f"{uri.joined(where, 'config.yaml')} was edited after the run "
                          f"started: {'; '.join(changed)}; --resume continues a run as it was "
                          "configured: put it back, or start a new run from the edited file "
                          "with raytrec train CONFIG --run-dir NEW")
    start = resume_point(job.run_dir)
    if isinstance(start, Path) and uri.uri_of(job.run_dir):  # the mirror's, as at
        start = uri.joined(uri.location(job.run_dir),  # the URI
                              str(start.relative_to(job.run_dir)))
    console.print(f"resuming from {start}" if start else "no checkpoint yet: the run "
                  "starts from its first epoch", soft_wrap=True)


def _check_resume_args(args: argparse.Namespace, what: str, directory: str) -> None:
    # ``--resume ""`` (an unset variable) is given, and refused as empty by ``user_path``.
    resuming = args.resume is not None
    if bool(args.config) == resuming:
        raise RaytrecError(f"give either a CONFIG to {what} or --resume {directory}, not both "
                           "or neither")
    others = [item for item in args.overrides or []
              if what != "train" or not is_placement(item.partition("=")[0])]
    if resuming and (others or args.run_dir is not None):
        may = (f" but {', '.join(PLACEMENT_KEYS)} (where it runs)" if what == "train" else "")
        raise RaytrecError(f"--resume continues a {'run' if what == 'train' else what} as it "
                           f"was configured; it takes no --run-dir, and no --set{may}"
                           + (f", got --set {others[0]}" if others else ""))


def evaluate(args: argparse.Namespace, console: Console) -> int:
    from raytrec.plugins import get_registry
    from raytrec.run.job import load_job
    from raytrec.run.rescore import rescore

    with mirror.reading(user_path(args.run_dir, "RUN_DIR") or "") as run:
        results = rescore(run, args.overrides, args.retriever)
        labels = get_registry().build("task", load_job(run).config.task).group_labels
    if args.json:
        console.print_json(json.dumps(results))
        return 0
    ks, index = results.pop("ks"), results.pop("index (test)", None)
    if "note" in results:
        console.print(f"note: {results.pop('note')}", soft_wrap=True)
    title = f"{args.run_dir} {scored_how(results)}"
    results.pop("retriever", None)
    results = {f"test, {labels[k]}" if k in labels else k: v for k, v in results.items()}
    console.print(metrics_table(title, results, ks))
    if index is not None:
        console.print(index_table(index))
    return 0


def export(args: argparse.Namespace, console: Console) -> int:
    from raytrec.serve.export import export_run

    out = user_path(args.out, "--out") or ""
    source = user_path(args.run_dir, "RUN_DIR") or ""
    run_dir.check_target(Path(out), args.overwrite, "export", "--out")  # before the lock
    with claimed(out, "--out", args), mirror.reading(source) as run:
        manifest = export_run(run, Path(out), args.overrides, args.retriever, args.overwrite)
    with written(f"the export is complete in {out}"):
        print_export(console, manifest, out)
    return 0


def recommend(args: argparse.Namespace, console: Console) -> int:
    from raytrec.serve.recommend import open_source, read_user_ids
    from raytrec.serve.recommend import recommend as top_k

    if bool(args.users) != bool(args.out):
        raise RaytrecError("--users writes its recommendations to a parquet file: give "
                           "--out FILE.parquet with it (and --out only with --users)")
    out, users = user_path(args.out, "--out"), user_path(args.users, "--users")
    if out and Path(out).exists():
        raise RaytrecError(f"--out {args.out} already exists; raytrec does not replace files "
                           "it did not make: choose another --out or remove it yourself")
    ids = read_user_ids(Path(users)) if users else [args.user]
    source_dir = user_path(args.source, "RUN_DIR|EXPORT_DIR") or ""
    with mirror.reading(source_dir, "RUN_DIR|EXPORT_DIR") as path:
        source = open_source(path)
        frame = top_k(source, ids, args.k, args.include_seen, _new_users(args, source))
    if users:
        write_answers(frame, Path(out or ""))
        console.print(f"{len(frame)} recommendations for {len(ids)} users "
                      f"({source.retriever_name}) in {out}", soft_wrap=True)
    elif args.json:
        console.print_json(frame.to_json(orient="records"))
    else:
        console.print(recommendations_table(
            f"user {args.user}: top {args.k} through {source.retriever_name}"
            + ("" if args.include_seen else ", seen items excluded"), frame))
    return 0


def write_answers(frame: pd.DataFrame, out: Path) -> None:
    """``recommend --users``'s parquet file, written whole or not at all."""
    from raytrec.serve.recommend import write_new_parquet

    try:
        write_new_parquet(frame, out)
    except OSError as exc:
        if exc.errno not in FULL:
            raise
        raise full(out, None, f"{out} was not written; free some space, or choose an --out "
                   "on another disk") from None


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
    from raytrec.run.job import default_run_dir

    _check_resume_args(args, "search", "TUNE_DIR")
    flag = "--resume" if args.resume is not None else "--run-dir"
    given = args.resume if args.resume is not None else args.run_dir
    target = user_path(given, flag) or str(default_run_dir(args.config))
    uri.local_only(target, flag)
    if not args.resume:
        run_dir.check_target(Path(target), args.overwrite, "tune")  # before the lock
    with claimed(target, flag, args, "tune directory"):
        return _tune(args, console, Path(target))


def _tune(args: argparse.Namespace, console: Console, target: Path) -> int:
    from raytrec.tune.outputs import write_outputs
    from raytrec.tune.results import collect
    from raytrec.tune.search import create_search, load_search, run_search

    scratch.clear_temp()
    if args.resume:
        search = load_search(target)
    else:
        for note in leftovers.clear(target):
            console.print(f"note: {note}", soft_wrap=True)
        with preparing(console):
            search = create_search(args.config, args.overrides, target, args.overwrite)
        print_data(console, search.data_dir)
    console.print(f"tune directory: {search.tune_dir}", soft_wrap=True)
    plan = search.plan
    keep = bool(args.resume)
    with interruptible("tune", search.tune_dir), \
            outcome(search.tune_dir, lambda: keep or search.experiment_dir.is_dir()):
        grid = run_search(search, resume=bool(args.resume))
        if search.interrupted():
            if plan.base.tracking.backend != "none":
                from raytrec.tune.tracking import TrialTracking

                TrialTracking(plan, str(search.tune_dir.resolve())).interrupted()
            raise KeyboardInterrupt
        trials = collect(grid, plan)
        summary = write_outputs(trials, plan, search.tune_dir)
        if plan.base.tracking.backend != "none":
            from raytrec.tune.tracking import TrialTracking

            TrialTracking(plan, str(search.tune_dir.resolve())).tag_best(summary["trial_id"])
    with written(f"the search finished; its results are in {search.tune_dir}"):
        print_search_summary(console, search.tune_dir, summary, plan)
    return 1 if summary["errors"] else 0


