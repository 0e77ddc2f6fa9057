"""What a tracked run logs, under names every backend accepts."""

from __future__ import annotations

import re
from typing import Any

from raytrec.config.run_config import RunConfig

PARAM_LIMIT = 6000  # MLflow's longest parameter value
_NOT_ALLOWED = re.compile(r"[^0-9A-Za-z_\-. :/]")


def metric_name(name: str) -> str:
    """``valid/recall@20`` as ``valid/recall_at_20``: MLflow takes letters, digits and
    ``_-. :/`` only."""
    return _NOT_ALLOWED.sub("_", name.replace("@", "_at_"))


def flat_params(config: RunConfig) -> dict[str, str]:
    """The resolved config as ``section.key`` parameters (the keys of ``--set``); a list or a
    mapping as its YAML-like text."""
    out: dict[str, str] = {}
    for section, values in config.to_dict().items():
        for key, value in values.items():
            text = "null" if value is None else str(value)
            out[f"{section}.{key}"] = text[:PARAM_LIMIT]
    return out


def numbers(row: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """The numeric entries of a metrics row (nested dicts flattened with ``/``), by their
    tracked names; booleans, text and the time of day left out."""
    out: dict[str, float] = {}
    for key, value in row.items():
        if key in ("time", "epoch", "finished"):
            continue
        if isinstance(value, dict):
            out.update(numbers(value, f"{prefix}{key}/"))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[metric_name(f"{prefix}{key}")] = float(value)
    return out


def plugin_tags() -> dict[str, str]:
    """The distributions that registered components, with their versions (what
    ``raytrec plugins`` lists)."""
    from raytrec.plugins import get_registry

    found = {e.distribution: e.version for e in get_registry().entries() if e.distribution}
    return {f"raytrec.plugin.{name}": str(version) for name, version in sorted(found.items())}
