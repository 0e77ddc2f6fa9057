"""A search file read and checked whole: base config, search space, tune options."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raytrec.config import read_config, validate, with_defaults
from raytrec.config.bind import bind
from raytrec.config.run_config import RunConfig
from raytrec.config.sections import EvalSection
from raytrec.errors import ConfigError, Problem, argument_problem
from raytrec.plugins import Registry, get_registry
from raytrec.tune.keys import apply, check_keys
from raytrec.tune.settings import TuneSection
from raytrec.tune.space import Param, corner_values, flatten, parse


@dataclass
class Plan:
    raw: dict[str, Any]  # the training config as written (plus --set), without defaults
    base: RunConfig  # ``raw`` resolved
    params: list[Param]
    settings: TuneSection
    source: str

    @property
    def metric_key(self) -> str:
        """The key trials report the optimised metric under."""
        return f"valid/{self.settings.metric}"

    @property
    def by_key(self) -> dict[str, Param]:
        return {p.key: p for p in self.params}

    def decode(self, drawn: dict[str, Any]) -> dict[str, Any]:
        """Config values of one trial's draws (Tune's ``config``)."""
        params = self.by_key
        return {k: params[k].decode(v) if k in params else v for k, v in drawn.items()}

    def trial_config(self, values: dict[str, Any],
                     registry: Registry | None = None) -> tuple[RunConfig, list[str]]:
        """The resolved training config of one trial (``values``: config values, as
        ``decode`` gives them), and notes on dropped arguments."""
        registry = registry or get_registry()
        raw, notes = apply(self.raw, values, registry)
        return validate(with_defaults(raw), registry, source="trial config"), notes

    def document(self) -> dict[str, Any]:
        """What ``--resume`` reads back: the file as run, every option explicit."""
        return {**copy.deepcopy(self.raw),
                "search": {p.key: {p.kind: list(p.args)} for p in self.params},
                "tune": dict(vars(self.settings))}


def load_plan(path: str | Path, overrides: list[str]) -> Plan:
    """Read ``path``; report every problem of the config, the space and the options at once."""
    source = str(path)
    raw = read_config(path, overrides)
    registry = get_registry()
    if "search" not in raw:
        raise ConfigError([Problem("search", "missing: a search file maps config keys to "
                                             "distributions, e.g. search: {loss.margin: "
                                             "{uniform: [0.1, 2.0]}}")], source)
    entries, problems = flatten(raw.pop("search"))
    params, found = parse(entries)
    problems += found + check_keys(params, with_defaults(raw), registry)
    options = raw.pop("tune", None) or {}
    if not isinstance(options, dict):
        problems.append(Problem("tune", f"expected a mapping, got {options!r}"))
        options = {}
    settings, found = bind("tune", TuneSection, options)
    problems += found
    try:
        base = validate(with_defaults(raw), registry, source)
    except ConfigError as exc:
        problems += exc.problems
        raise ConfigError(problems, source) from None
    if settings is not None:
        found = _metric_problems(settings.metric or base.eval.metric, base.eval.ks)
        problems += found
        if settings.metric and not found and settings.metric != base.eval.metric:
            # Each trial's best epoch is picked by the metric the search optimises.
            raw.setdefault("eval", {})["metric"] = settings.metric
            base = validate(with_defaults(raw), registry, source)
        settings.metric = settings.metric or base.eval.metric
        epochs = base.train.epochs
        if settings.scheduler == "asha" and settings.grace_period > epochs and \
                "train.epochs" not in entries:
            problems.append(Problem("tune.grace_period", f"{settings.grace_period} is more than "
                                    f"train.epochs ({epochs}): ASHA could never stop a trial; "
                                    "lower it or use scheduler: fifo"))
    # The bounds of every entry that is well-formed are checked too, whatever else is wrong.
    flawed = {p.key for p in problems}
    sound = [p for p in params if f"search.{p.key}" not in flawed]
    problems += corner_problems(Plan(raw, base, sound, settings or TuneSection(), source),
                                lambda config: validate(with_defaults(config), registry))
    if problems:
        raise ConfigError(problems, source)
    return Plan(raw, base, params, settings, source)


def _metric_problems(metric: str, ks: list[int]) -> list[Problem]:
    try:
        EvalSection(ks=ks, metric=metric)
    except ValueError as exc:
        return [argument_problem("tune", exc)]
    return []


def corner_problems(plan: Plan, check: Any) -> list[Problem]:
    """Run ``check(raw_config)`` on every bound of every entry; its ConfigErrors as problems
    keyed by the entry that produced them."""
    registry = get_registry()
    problems: list[Problem] = []
    for values in corner_values(plan.params):
        raw, _ = apply(plan.raw, values, registry)
        try:
            check(raw)
        except ConfigError as exc:
            label = "search." + ", search.".join(values)
            shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
            for problem in exc.problems:
                problem = Problem(label, f"with {shown}: {problem}")
                if problem not in problems:
                    problems.append(problem)
    return problems
