"""Reading a YAML config, applying ``--set key=value`` overrides, merging defaults."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from raytrec.config.defaults import DEFAULTS
from raytrec.errors import ConfigError, Problem


def read_yaml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError([Problem("", f"config file {p} does not exist")], source=str(p))
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError([Problem("", f"not valid YAML: {exc}")], source=str(p)) from None
    if not isinstance(data, dict):
        raise ConfigError([Problem("", "the top level must be a mapping of sections")], str(p))
    return data


def apply_overrides(config: dict[str, Any], overrides: list[str]) -> list[Problem]:
    """Apply ``a.b=value`` strings in place (values parsed as YAML); return malformed ones."""
    problems = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key or any(not part for part in key.split(".")):
            problems.append(Problem(f"--set {item}", "expected KEY=VALUE, e.g. loss.margin=0.3"))
            continue
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        node = config
        parts = key.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[parts[-1]] = value
    return problems


def with_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """Defaults overlaid by ``config``, one level deep; a new plugin name drops default args."""
    merged = copy.deepcopy(DEFAULTS)
    for section, value in config.items():
        base = merged.get(section)
        if isinstance(base, dict) and isinstance(value, dict):
            if "name" in value and value["name"] != base.get("name"):
                base = {}
            merged[section] = {**base, **value}
        else:
            merged[section] = copy.deepcopy(value)
    return merged
