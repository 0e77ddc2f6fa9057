"""What a search may address: each ``search:`` key checked against the sections and the
arguments of every plugin the search can pick, and a trial's values put into the config
(``apply``), dropping, with a note, what a swapped-in plugin does not take."""

from __future__ import annotations

import copy
from typing import Any

from raytrec.config.bind import current_name, parameters
from raytrec.config.defaults import PLUGIN_SECTIONS
from raytrec.config.validate import PLAIN_SECTIONS
from raytrec.errors import Problem, did_you_mean
from raytrec.plugins import Registry
from raytrec.tune.space import FIXED_SECTIONS, SEARCHABLE, Param


def check_keys(params: list[Param], raw: dict[str, Any], registry: Registry) -> list[Problem]:
    """Every key addresses a searchable config key of some plugin the search can pick."""
    problems = []
    searched_names = {p.section: p for p in params if p.arg == "name"}
    for p in params:
        label = f"search.{p.key}"
        if "." not in p.key:
            problems.append(Problem(label, "expected section.argument, e.g. loss.margin"))
        elif p.section in FIXED_SECTIONS:
            problems.append(Problem(label, f"{p.section} cannot be searched: "
                                           f"{FIXED_SECTIONS[p.section]}"))
        elif p.section not in SEARCHABLE:
            problems.append(Problem(label, f"unknown section '{p.section}'"
                                           f"{did_you_mean(p.section, SEARCHABLE)} (searchable: "
                                           f"{', '.join(SEARCHABLE)})"))
        elif "." in p.arg:
            problems.append(Problem(label, "nested keys cannot be searched; search a whole "
                                           "value with choice"))
        elif p.arg == "name":
            if p.section not in PLUGIN_SECTIONS:
                problems.append(Problem(label, f"{p.section} has no plugin name"))
            elif p.kind != "choice":
                problems.append(Problem(label, "a plugin name is searched with choice"))
        elif p.section in PLUGIN_SECTIONS:
            problems += _plugin_arg_problems(p, raw, searched_names, registry)
        elif p.arg not in (accepted := parameters(PLAIN_SECTIONS[p.section])):
            problems.append(Problem(label, f"{p.section} has no key '{p.arg}'"
                                           f"{did_you_mean(p.arg, accepted)} (keys: "
                                           f"{', '.join(accepted)})"))
    return problems


def _plugin_arg_problems(p: Param, raw: dict[str, Any], searched: dict[str, Param],
                         registry: Registry) -> list[Problem]:
    kind = PLUGIN_SECTIONS[p.section]
    names = [n for n in _names(p.section, raw, searched) if registry.has(kind, n)]
    if not names or any(_takes(registry.get(kind, n), p.arg) for n in names):
        return []  # an unknown plugin name is reported by itself
    if len(names) > 1:
        return [Problem(f"search.{p.key}", f"no {kind} searched ({', '.join(names)}) has an "
                                           f"argument '{p.arg}'")]
    accepted = parameters(registry.get(kind, names[0]))
    return [Problem(f"search.{p.key}", f"{kind} '{names[0]}' has no argument '{p.arg}'"
                                       f"{did_you_mean(p.arg, accepted)} (arguments: "
                                       f"{', '.join(accepted) or 'none'})")]


def _takes(cls: type[Any], arg: str) -> bool:
    params = parameters(cls)
    return current_name(arg, params) in params


def _names(section: str, raw: dict[str, Any], searched: dict[str, Param]) -> list[str]:
    if section in searched and searched[section].kind == "choice":
        return [n for n in searched[section].args if isinstance(n, str)]
    name = (raw.get(section) or {}).get("name")
    return [name] if isinstance(name, str) else []


def apply(raw: dict[str, Any], values: dict[str, Any],
          registry: Registry) -> tuple[dict[str, Any], list[str]]:
    """``raw`` (a config without defaults) with ``values`` set; also the notes on what was
    dropped because the (possibly swapped) plugin has no such argument."""
    config = copy.deepcopy(raw)
    notes = []
    names = {k: v for k, v in values.items() if k.endswith(".name")}
    for key, name in names.items():
        section = key.split(".", 1)[0]
        current = dict(config.get(section) or {})
        kind = PLUGIN_SECTIONS[section]
        if current.get("name") == name:
            continue
        accepted = parameters(registry.get(kind, name)) if registry.has(kind, name) else {}
        kept = {"name": name}
        for arg, value in current.items():
            if arg == "name":
                continue
            if arg in accepted:
                kept[arg] = value
            elif f"{section}.{arg}" not in values:  # a searched value gets its own note
                notes.append(f"{section}.{arg}={value!r} dropped: {kind} '{name}' has no "
                             f"argument '{arg}'")
        config[section] = kept
    for key, value in values.items():
        if key in names:
            continue
        section, arg = key.split(".", 1)
        node = config.setdefault(section, {})
        if section in PLUGIN_SECTIONS:
            kind = PLUGIN_SECTIONS[section]
            name = node.get("name")
            if isinstance(name, str) and registry.has(kind, name) and \
                    arg not in parameters(registry.get(kind, name)):
                notes.append(f"{key}={value!r} dropped: {kind} '{name}' has no argument '{arg}'")
                continue
        node[arg] = value
    return config, notes
