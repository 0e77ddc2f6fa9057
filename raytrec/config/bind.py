"""Binding config keys to a constructor: unknown keys, missing ones, types, values."""

from __future__ import annotations

import inspect
import typing
from typing import Any

from raytrec.config.types import non_finite, type_problem
from raytrec.errors import Problem, argument_problem, did_you_mean


def parameters(cls: type[Any]) -> dict[str, inspect.Parameter]:
    sig = inspect.signature(cls.__init__ if not _is_dataclass(cls) else cls)
    return {n: p for n, p in sig.parameters.items()
            if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


# Arguments renamed since: old name -> new. A config (or a finished run's saved config) that
# uses the old name keeps working for every class that takes the new one.
RENAMED = {"metric": "distance"}


def current_name(key: str, params: dict[str, Any]) -> str:
    """``key``, or its new name when ``params`` take only the new one."""
    new = RENAMED.get(key)
    return new if key not in params and new is not None and new in params else key


def with_current_names(section: str, cls: type[Any],
                       kwargs: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """``kwargs`` with old argument names replaced; giving both names is a problem."""
    params = parameters(cls)
    out: dict[str, Any] = {}
    problems = []
    for key, value in kwargs.items():
        name = current_name(key, params)
        if name != key and name in kwargs:
            problems.append(Problem(f"{section}.{key}", f"'{key}' is the old name of '{name}', "
                                    f"which is also given; keep only {section}.{name}"))
            continue
        out[name] = value
    return out, problems


def _is_dataclass(cls: type[Any]) -> bool:
    return hasattr(cls, "__dataclass_fields__")


def _hints(cls: type[Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls if _is_dataclass(cls) else cls.__init__)
    except Exception:  # unresolvable annotations are not the user's problem
        return {}


def defaults(cls: type[Any]) -> dict[str, Any]:
    return {n: p.default for n, p in parameters(cls).items() if p.default is not p.empty}


def bind(section: str, cls: type[Any], kwargs: dict[str, Any]) -> tuple[Any, list[Problem]]:
    """Construct ``cls(**kwargs)``, or report every reason it cannot be, keyed by config path."""
    kwargs, problems = with_current_names(section, cls, kwargs)
    params = parameters(cls)
    hints = _hints(cls)
    label = cls.__name__
    for key, value in kwargs.items():
        if key not in params:
            choices = ", ".join(params) or "none"
            problems.append(Problem(
                f"{section}.{key}",
                f"{label} has no argument '{key}'{did_you_mean(key, params)} "
                f"(arguments: {choices})",
            ))
        elif (why := non_finite(value)) or (
                key in hints and (why := type_problem(value, hints[key]))):
            problems.append(Problem(f"{section}.{key}", why))
    for name, p in params.items():
        if p.default is p.empty and name not in kwargs:
            problems.append(Problem(f"{section}.{name}", f"{label} needs '{name}'; set it"))
    if problems:
        return None, problems
    try:
        obj = cls(**kwargs)
    except ValueError as exc:
        return None, [argument_problem(section, exc)]
    except TypeError as exc:
        return None, [Problem(section, str(exc))]
    except AssertionError as exc:  # a plugin's assert: still one message, not a traceback
        why = str(exc).splitlines()[0] if str(exc) else "an assertion failed"
        return None, [Problem(section, f"{label}: {why} (raise raytrec.errors.ArgumentError("
                                       "'<argument>', 'must be ...') to name the key)")]
    if _unready_module(obj):
        return None, [Problem(section, f"{label}.__init__ must call super().__init__() first "
                                       "(it is a torch module)")]
    return obj, []


def _unready_module(obj: Any) -> bool:
    """A torch module whose ``__init__`` skipped ``nn.Module.__init__``."""
    import torch

    return isinstance(obj, torch.nn.Module) and "_modules" not in vars(obj)
