"""Reading a YAML config, applying ``--set key=value`` overrides, merging defaults."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from raytrec.config import yaml_io
from raytrec.config.bind import RENAMED
from raytrec.config.defaults import DEFAULTS
from raytrec.config.paths import resolve_paths
from raytrec.errors import ConfigError, Problem


def read_yaml(path: str | Path, what: str = "config file") -> dict[str, Any]:
    """A YAML mapping from ``path``; every way it can be unusable is a ConfigError naming it."""
    p = Path(path)

    def refuse(why: str) -> ConfigError:
        return ConfigError([Problem("", why)], source=str(p))

    if p.is_dir():
        raise refuse(f"{what} {p} is a directory; give the YAML file itself")
    if not p.is_file():
        raise refuse(f"{what} {p} does not exist")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(f"not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at offset "
                     f"{exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise refuse(f"cannot read {p}: {exc.strerror or exc}") from None
    try:
        data = yaml_io.load(text, str(p))
    except yaml_io.RefusedYaml as exc:
        raise refuse(str(exc)) from None
    except yaml.YAMLError as exc:
        raise refuse(f"not valid YAML: {exc}") from None
    if data is None or data == {}:
        raise refuse("the config is empty; name at least the data, e.g. data: {name: "
                     "movielens-100k} (every other section has defaults; see examples/)")
    if not isinstance(data, dict):
        raise refuse("the top level must be a mapping of sections")
    return data


def read_config(path: str | Path, overrides: list[str]) -> dict[str, Any]:
    """A config file plus ``--set`` overrides, not yet validated. Relative file paths in the
    file are taken from the file's folder, those given with ``--set`` from the current one."""
    raw = read_yaml(path)
    resolve_paths(raw, Path(path).parent)
    problems = apply_overrides(raw, overrides)
    if problems:
        raise ConfigError(problems, str(path))
    resolve_paths(raw, Path.cwd())
    return raw


def apply_overrides(config: dict[str, Any], overrides: list[str]) -> list[Problem]:
    """Apply ``a.b=value`` strings in place (values parsed as YAML); return malformed ones."""
    problems = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key or any(not part for part in key.split(".")):
            problems.append(Problem(f"--set {item}", "expected KEY=VALUE, e.g. loss.margin=0.3"))
            continue
        try:
            value = yaml_io.load(raw, f"--set {item}") if raw else ""
        except yaml_io.RefusedYaml as exc:  # valid YAML a config may not be: not text either
            problems.append(Problem(f"--set {item}", str(exc)))
            continue
        except yaml.YAMLError:  # not YAML at all: taken as the text it is (a path, a name)
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
            # A default is not also given under its old name (validation renames that one).
            base = {k: v for k, v in base.items()
                    if not any(RENAMED.get(old) == k and k not in value for old in value)}
            merged[section] = {**base, **value}
        else:
            merged[section] = copy.deepcopy(value)
    return merged
