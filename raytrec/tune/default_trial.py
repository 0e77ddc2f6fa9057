"""The config as given, run as the search's first trial: what the search is measured against.

A search file is a training config plus ranges. Its own values (``loss.margin: 0.5`` beside
``search: {loss.margin: {uniform: [0.1, 1.5]}}``) are what a user would have trained without
the search; with ``tune.include_default`` (the default) they are the first trial, one of
``num_samples``, so the end of the search can say what searching bought. Values outside their
range cannot be drawn, and then the search runs without that trial and says why.
"""

from __future__ import annotations

from typing import Any

from raytrec.tune.plan import Plan
from raytrec.tune.results import Trial


def default_point(plan: Plan) -> tuple[dict[str, Any] | None, str]:
    """The draws that give the base config's own values (a key the base plugin does not take
    is left to the search), or ``None`` and why they cannot be drawn."""
    point = {}
    resolved = plan.base.to_dict()
    for p in plan.params:
        node = resolved.get(p.section) or {}
        if p.arg not in node:
            continue
        drawable, drawn = p.encode(node[p.arg])
        if not drawable:
            return None, (f"the config's own {p.key}={node[p.arg]!r} lies outside "
                          f"search.{p.key}")
        point[p.key] = drawn
    return point, ""


def find_default(trials: list[Trial], plan: Plan) -> Trial | None:
    """The trial that ran the base config's own values, if the search ran one."""
    point, _ = default_point(plan)
    if point is None or not plan.settings.include_default:
        return None
    wanted = plan.decode(point)
    return next((t for t in trials
                 if all(t.values.get(k) == v for k, v in wanted.items())), None)
