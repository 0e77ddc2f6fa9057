"""The ``search:`` section: config keys mapped to distributions, checked before Ray starts.

Each entry addresses one config key, dotted (``loss.margin``) or nested, with exactly one of::

    uniform: [low, high]          floats, low < high
    loguniform: [low, high]       floats, 0 < low < high, sampled uniformly in log space
    quniform: [low, high, q]      low, low + q, ..., high; integers when all three are
    randint: [low, high]          integers, both ends included
    choice: [a, b, ...]           any values, including plugin names (``loss.name``)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from raytrec.errors import Problem, did_you_mean

DISTRIBUTIONS = ("uniform", "loguniform", "quniform", "randint", "choice")
# Every trial trains and is scored on one prepared split with the same resources.
FIXED_SECTIONS = {
    "data": "every trial trains on the same prepared data",
    "split": "every trial is scored on the same split",
    "prepare": "every trial trains on the same prepared data",
    "scaling": "every trial gets the same resources; set them in scaling and tune",
    "tracking": "every trial is tracked where the search is",
}
SEARCHABLE = ("mapper", "sampler", "loss", "retriever", "train", "eval")


@dataclass(frozen=True)
class Param:
    """One searched key: ``section.arg`` and its distribution."""

    key: str
    kind: str
    args: tuple[Any, ...]

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def arg(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def integer(self) -> bool:
        return self.kind == "randint" or (
            self.kind == "quniform" and all(isinstance(a, int) for a in self.args))

    @property
    def log(self) -> bool:
        return self.kind == "loguniform"

    @property
    def indexed(self) -> bool:
        """A choice among lists or mappings: searched by position (search algorithms take
        scalars only)."""
        return self.kind == "choice" and not all(
            v is None or isinstance(v, str | int | float | bool) for v in self.args)

    def decode(self, drawn: Any) -> Any:
        """The config value of what the search algorithm drew."""
        if self.indexed:
            return self.args[int(drawn)]
        return round(drawn) if self.integer else drawn

    def encode(self, value: Any) -> tuple[bool, Any]:
        """What the search algorithm would draw to give config ``value``: ``(True, drawn)``,
        or ``(False, None)`` when ``value`` lies outside the distribution."""
        if self.kind == "choice":
            for i, choice in enumerate(self.args):
                if choice == value and isinstance(choice, bool) == isinstance(value, bool):
                    return True, i if self.indexed else choice
            return False, None
        if not _is_number(value) or not self.args[0] <= value <= self.args[1]:
            return False, None
        if self.integer:
            step = self.args[2] if self.kind == "quniform" else 1
            on_grid = isinstance(value, int) and (value - self.args[0]) % step == 0
            return (True, value) if on_grid else (False, None)
        if self.kind == "quniform":
            steps = (value - self.args[0]) / self.args[2]
            return (True, value) if math.isclose(steps, round(steps)) else (False, None)
        return True, value

    def corners(self) -> list[Any]:
        """The values that bound what a trial may draw: both ends, or every choice."""
        if self.kind == "choice":
            return list(self.args)
        return [self.args[0], self.args[1]]

    def domain(self) -> Any:
        """The Ray Tune search domain."""
        from ray import tune

        low, high = self.args[0], self.args[1]
        if self.kind == "uniform":
            return tune.uniform(low, high)
        if self.kind == "loguniform":
            return tune.loguniform(low, high)
        if self.kind == "randint":
            return tune.randint(low, high + 1)  # Tune's upper bound is exclusive
        if self.kind == "quniform":
            q = self.args[2]
            return tune.qrandint(low, high, q) if self.integer else tune.quniform(low, high, q)
        return tune.choice(list(range(len(self.args))) if self.indexed else list(self.args))


def flatten(section: Any) -> tuple[dict[str, Any], list[Problem]]:
    """``{loss: {margin: {uniform: ...}}}`` and ``{loss.margin: {uniform: ...}}`` alike."""
    if not isinstance(section, dict) or not section:
        return {}, [Problem("search", "expected a non-empty mapping of config keys to "
                                      "distributions, e.g. loss.margin: {uniform: [0.1, 2.0]}")]
    out: dict[str, Any] = {}
    problems: list[Problem] = []

    def walk(prefix: str, node: Any) -> None:
        # A distribution is one name over a list of arguments; a mapping goes one level down.
        if isinstance(node, dict) and node and not _distribution(prefix, node):
            if any(k in DISTRIBUTIONS for k in node):
                problems.append(Problem(f"search.{prefix}", f"give one distribution, got "
                                                            f"{', '.join(map(str, node))}"))
                return
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
            return
        out[prefix] = node

    walk("", section)
    return out, problems


def _distribution(prefix: str, node: dict[Any, Any]) -> bool:
    """Whether ``node`` is ``{kind: args}`` rather than a level of config keys: its one key is
    a distribution (or a misspelt one), or ``prefix`` already names ``section.argument``."""
    if len(node) != 1 or isinstance(next(iter(node.values())), dict):
        return False
    key = str(next(iter(node)))
    return key in DISTRIBUTIONS or "." in prefix or bool(did_you_mean(key, DISTRIBUTIONS))


def parse(entries: dict[str, Any]) -> tuple[list[Param], list[Problem]]:
    """Shape checks of every entry: a known distribution with well-ordered bounds."""
    params, problems = [], []
    for key, spec in entries.items():
        label = f"search.{key}"
        if not isinstance(spec, dict) or len(spec) != 1:
            example = spec if isinstance(spec, list) and spec else [0.1, 2.0]
            problems.append(Problem(label, f"expected a distribution, one of "
                                           f"{', '.join(DISTRIBUTIONS)} mapped to its arguments, "
                                           f"e.g. {key}: {{choice: {example}}}; got {spec!r}"))
            continue
        kind, args = next(iter(spec.items()))
        if kind not in DISTRIBUTIONS:
            problems.append(Problem(label, f"unknown distribution '{kind}'"
                                           f"{did_you_mean(str(kind), DISTRIBUTIONS)} "
                                           f"(distributions: {', '.join(DISTRIBUTIONS)})"))
            continue
        why = _bounds_problem(kind, args)
        if why:
            problems.append(Problem(label, why))
            continue
        params.append(Param(key, kind, tuple(args)))
    return params, problems


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _bounds_problem(kind: str, args: Any) -> str | None:
    if not isinstance(args, list) or not args:
        return f"{kind} needs a non-empty list, got {args!r}"
    if kind == "choice":
        return None
    size = 3 if kind == "quniform" else 2
    shape = "[low, high, q]" if size == 3 else "[low, high]"
    if len(args) != size or not all(_is_number(a) for a in args):
        return f"{kind} needs {shape} of finite numbers, got {args!r}"
    low, high = args[0], args[1]
    if kind == "randint" and not all(isinstance(a, int) for a in args):
        return f"randint needs integer bounds, got {args!r}"
    if not low < high:
        return f"{kind} needs low < high, got {args!r}"
    if kind == "loguniform" and low <= 0:
        return f"loguniform needs 0 < low, got {args!r}"
    if kind == "quniform" and not 0 < args[2] <= high - low:
        return f"quniform needs 0 < q <= high - low, got q={args[2]!r}"
    return None


def corner_values(params: list[Param]) -> list[dict[str, Any]]:
    """Assignments that, between them, put every bound of every entry in front of the config
    checks once; a plugin-name choice is paired with each entry its plugins accept."""
    names = [p for p in params if p.arg == "name"]
    others = [p for p in params if p.arg != "name"]
    assignments: list[dict[str, Any]] = []
    for p in others:
        assignments += [{p.key: v} for v in p.corners()]
    for n in names:
        for name in n.args:
            assignments.append({n.key: name})
            for p in others:
                if p.section == n.section:
                    assignments += [{n.key: name, p.key: v} for v in p.corners()]
    return assignments
