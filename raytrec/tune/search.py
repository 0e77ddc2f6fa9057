"""Driver side of ``raytrec tune``: claim a directory, prepare the data once, run Tune."""

from __future__ import annotations

import logging
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from raytrec.errors import ConfigError, Problem, RunDirError
from raytrec.layout import RAY_STORAGE
from raytrec.plugins import get_registry
from raytrec.run.job import check_against_data, default_run_dir, prepare_run_dir
from raytrec.run.uri import local_only
from raytrec.tune.conditional import ConditionalSpace
from raytrec.tune.default_trial import default_point
from raytrec.tune.plan import Plan, corner_problems, load_plan
from raytrec.tune.trial import run_trial, trains_itself, trial_resources

PLAN_FILE = "tune.yaml"
TUNE_ENV = {
    # Tune's legacy output engine honours verbose=0; the new one still prints a banner.
    "RAY_AIR_NEW_OUTPUT": "0",
    # Every epoch checkpoints (so a search resumes mid-trial) and Tune warns about that.
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
}
EXPERIMENT = "search"
ENDED_LOG = "ended.jsonl"


@dataclass
class Search:
    plan: Plan
    tune_dir: Path
    out_of_time: bool = False  # the last run_search ended at tune.time_budget_s

    @property
    def data_dir(self) -> Path:
        return self.tune_dir / "data"

    @property
    def ended_log(self) -> Path:
        return self.tune_dir / ENDED_LOG

    def interrupted(self) -> bool:
        """Whether the search was stopped before its end: some trial has not ended yet, and
        the search did not run out of its time budget."""
        from raytrec.tune.live import ended_trials

        return not self.out_of_time and \
            len(ended_trials(self.ended_log)) < self.plan.settings.num_samples

    @property
    def experiment_dir(self) -> Path:
        return self.tune_dir / RAY_STORAGE / EXPERIMENT


def create_search(config_path: str | Path, overrides: list[str], tune_dir: Path | None,
                  overwrite: bool = False) -> Search:
    """Check the whole search file, prepare its data, and only then create ``tune_dir``."""
    local_only(tune_dir, "--run-dir")
    plan = load_plan(config_path, overrides)
    tune_dir = Path(tune_dir) if tune_dir else default_run_dir(config_path)

    def fill(staging: Path) -> None:
        _check_against_data(plan, staging / "data")
        (staging / PLAN_FILE).write_text(yaml.safe_dump(plan.document(), sort_keys=False))

    prepare_run_dir(tune_dir, plan.base, overwrite, fill, kind="tune")
    return Search(plan, tune_dir)


def _check_against_data(plan: Plan, data_dir: Path) -> None:
    """What only the data can refute (more negatives than items), for every bound searched."""
    from raytrec.config import validate, with_defaults

    registry = get_registry()

    def check(raw: dict[str, Any]) -> None:
        check_against_data(validate(with_defaults(raw), registry), data_dir, plan.source)

    check(plan.raw)
    problems = corner_problems(plan, check)
    if problems:
        raise ConfigError(problems, plan.source)


def load_search(tune_dir: Path) -> Search:
    local_only(tune_dir, "--resume")
    tune_dir = Path(tune_dir)
    path = tune_dir / PLAN_FILE
    if not path.is_file():
        raise RunDirError(f"{tune_dir} is not a raytrec tune directory (no {PLAN_FILE})")
    search = Search(load_plan(path, []), tune_dir)
    if not search.experiment_dir.is_dir():
        raise RunDirError(f"{tune_dir} has no search to continue ({search.experiment_dir} is "
                          f"missing); start it again with raytrec tune")
    return search


def run_search(search: Search, resume: bool = False, live: bool = True) -> Any:
    """Run (or continue) the search; returns Tune's ResultGrid. ``live``: show the table of
    trials in the terminal."""
    from raytrec.debug import debugging
    from raytrec.run.ray_setup import ensure_ray

    for key, value in TUNE_ENV.items():
        os.environ.setdefault(key, value)
    ensure_ray()
    from ray import tune

    if not debugging():
        # The live table says what matters; Tune's and Optuna's INFO lines would scroll it away.
        logging.getLogger("ray.tune").setLevel(logging.WARNING)
        # "The `process_trial_result` operation took 0.944 s": Tune timing its own loop on a
        # busy machine, which the user can do nothing about.
        logging.getLogger("ray.tune.utils.util").setLevel(logging.ERROR)
        # On Ctrl-C or SIGTERM, "Resume experiment with: Tuner.restore(...)", and on resuming,
        # "Failed to fetch metrics" of the trial that was cut short: raytrec's own message says
        # to run raytrec tune --resume, which restores the search and reruns that trial.
        for name in ("ray.tune.tune", "ray.tune.analysis.experiment_analysis"):
            logging.getLogger(name).setLevel(logging.ERROR)
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        # A resumed trial reports again the epochs it redoes since its last checkpoint.
        warnings.filterwarnings("ignore", message="The reported value is ignored because this "
                                "`step=", category=UserWarning)

    from raytrec.tune.live import CompletionLog, LiveTable
    from raytrec.tune.tracking import TrialTracking

    plan = search.plan
    resources = trial_resources(plan)
    _check_trial_resources(plan, resources)
    trainable = tune.with_resources(
        tune.with_parameters(run_trial, plan=plan,
                             data_dir=str(search.data_dir.resolve())),
        {k: v for k, v in resources.items() if v or k == "cpu"})
    if resume:
        tuner = tune.Tuner.restore(str(search.experiment_dir.resolve()), trainable,
                                   resume_unfinished=True, resume_errored=True)
    else:
        settings = plan.settings
        tuner = tune.Tuner(
            trainable,
            param_space={} if _conditional(plan) else {p.key: p.domain() for p in plan.params},
            tune_config=tune.TuneConfig(
                metric=plan.metric_key, mode=settings.mode, num_samples=settings.num_samples,
                time_budget_s=settings.time_budget_s,
                # Random search takes its limit itself (Tune applies it to Searchers only).
                max_concurrent_trials=None if settings.algorithm == "random"
                else settings.max_concurrent_trials,
                scheduler=_scheduler(plan), search_alg=_search_algorithm(plan)),
            run_config=tune.RunConfig(
                name=EXPERIMENT, storage_path=str((search.tune_dir / RAY_STORAGE).resolve()),
                verbose=0,
                callbacks=[*([LiveTable(plan)] if live else []),
                           CompletionLog(str(search.ended_log.resolve())),
                           *([TrialTracking(plan, str(search.tune_dir.resolve()))]
                             if plan.base.tracking.backend != "none" else [])],
                # A trial's Ray Train workers are restarted by its own trainer
                # (scaling.max_failures); a trial that raised (most often a draw that
                # diverged) would only fail again, and --resume re-runs errored trials.
                failure_config=tune.FailureConfig(max_failures=0),
                checkpoint_config=tune.CheckpointConfig(num_to_keep=2)),
        )
    started = time.monotonic()
    grid = tuner.fit()
    budget = search.plan.settings.time_budget_s
    search.out_of_time = budget is not None and time.monotonic() - started >= budget
    return grid


def _check_trial_resources(plan: Plan, resources: dict[str, float]) -> None:
    """One trial must fit on the cluster, or Tune waits for it for ever."""
    from raytrec.run.resources import check_resources, cluster_nodes

    if not trains_itself(plan.base):
        check_resources(plan.base.scaling, plan.source, resources["cpu"],
                        f" plus {resources['cpu']:g} CPU for the trial itself")
        return
    nodes, limit = cluster_nodes()
    largest = max((n.get("CPU", 0) for n in nodes), default=0) if limit is None \
        else limit.get("CPU", 0)
    if resources["cpu"] > largest:
        raise ConfigError([Problem("tune.cpus_per_trial", f"a trial needs {resources['cpu']:g} "
                                   f"CPUs, but no node of the cluster has more than "
                                   f"{largest:g}; lower tune.cpus_per_trial (or "
                                   "scaling.cpus_per_worker)")], plan.source)


def max_epochs(plan: Plan) -> int:
    searched = plan.by_key.get("train.epochs")
    if searched is None:
        return int(plan.base.train.epochs)
    return int(max(searched.corners()))


def _scheduler(plan: Plan) -> Any:
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    settings = plan.settings
    if settings.scheduler == "fifo":
        return FIFOScheduler()
    # stop_last_trials=False: a trial that reaches max_t still makes its final report (the
    # best epoch's validation and test metrics).
    return ASHAScheduler(time_attr="epoch", max_t=max_epochs(plan),
                         grace_period=settings.grace_period,
                         reduction_factor=settings.reduction_factor, stop_last_trials=False)


def _search_algorithm(plan: Plan) -> Any:
    settings = plan.settings
    point, _ = default_point(plan)
    first = [point] if settings.include_default and point is not None else None
    if settings.algorithm == "random":
        from ray.tune.search.basic_variant import BasicVariantGenerator

        return BasicVariantGenerator(points_to_evaluate=first, random_state=settings.seed,
                                     max_concurrent=settings.max_concurrent_trials or 0)
    from ray.tune.search.optuna import OptunaSearch

    if _conditional(plan):
        return OptunaSearch(space=ConditionalSpace.build(plan.params, get_registry()),
                            metric=plan.metric_key, mode=settings.mode,
                            points_to_evaluate=first, seed=settings.seed)
    return OptunaSearch(points_to_evaluate=first, seed=settings.seed)


def _conditional(plan: Plan) -> bool:
    """A plugin name is searched with Optuna: draw each argument only where it applies."""
    return plan.settings.algorithm == "optuna" and any(p.arg == "name" for p in plan.params)
