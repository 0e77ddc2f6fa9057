"""The search space as Optuna's define-by-run function, for TPE."""

from __future__ import annotations

from typing import Any

from raytrec.config.bind import parameters
from raytrec.config.defaults import PLUGIN_SECTIONS
from raytrec.plugins import Registry
from raytrec.tune.space import Param


class ConditionalSpace:
    """The space as an Optuna define-by-run function: an argument is drawn only when the
    plugin drawn for its section takes it, so TPE never spends trials on values a trial drops.

    ``accepts``: for each searched plugin-name key, the arguments of each of its choices.
    """

    def __init__(self, params: list[Param], accepts: dict[str, dict[str, set[str]]]) -> None:
        self.params = params
        self.accepts = accepts

    @classmethod
    def build(cls, params: list[Param], registry: Registry) -> ConditionalSpace:
        accepts = {
            p.key: {name: set(parameters(registry.get(PLUGIN_SECTIONS[p.section], name)))
                    for name in p.args}
            for p in params if p.arg == "name"}
        return cls(params, accepts)

    def __call__(self, trial: Any) -> None:
        drawn = {}
        for p in sorted(self.params, key=lambda p: p.arg != "name"):  # plugin names first
            name_key = f"{p.section}.name"
            if name_key in self.accepts and p.arg != "name" and \
                    p.arg not in self.accepts[name_key][drawn[name_key]]:
                continue
            drawn[p.key] = _suggest(trial, p)


def _suggest(trial: Any, p: Param) -> Any:
    """One draw through Optuna's trial API (the same distributions as ``Param.domain``)."""
    if p.kind == "choice":
        return trial.suggest_categorical(
            p.key, list(range(len(p.args))) if p.indexed else list(p.args))
    low, high = p.args[0], p.args[1]
    if p.kind == "uniform":
        return trial.suggest_float(p.key, low, high)
    if p.kind == "loguniform":
        return trial.suggest_float(p.key, low, high, log=True)
    if p.kind == "randint":
        return trial.suggest_int(p.key, low, high)
    if p.kind == "quniform":
        if p.integer:
            return trial.suggest_int(p.key, low, high, step=p.args[2])
        return trial.suggest_float(p.key, low, high, step=p.args[2])
    raise ValueError(f"unknown distribution {p.kind!r} for {p.key}")
