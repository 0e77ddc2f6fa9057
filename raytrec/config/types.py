"""Checking a YAML value against a constructor's type annotation."""

from __future__ import annotations

import math
import types
import typing
from typing import Any, Literal, Union


def non_finite(value: Any) -> str | None:
    """Why a config value holds NaN or an infinity (in any list or mapping), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"is {value}; every number in a config must be finite"
    items = value.values() if isinstance(value, dict) else value \
        if isinstance(value, list | tuple) else ()
    return next((why for v in items if (why := non_finite(v))), None)


def type_problem(value: Any, annotation: Any) -> str | None:
    """Why ``value`` does not fit ``annotation``, or None when it fits (or cannot be told)."""
    if _fits(value, annotation):
        return None
    return f"expected {describe(annotation)}, got {type(value).__name__} {value!r}"


def _fits(value: Any, ann: Any) -> bool:
    if ann is Any or ann is typing.Any:
        return True
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is Literal:
        return value in args
    if origin in (Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            return False
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                return False
            return all(_fits(v, a) for v, a in zip(value, args, strict=True))
        inner = args[0] if args else Any
        return all(_fits(v, inner) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    return _fits_plain(value, ann)


def _fits_plain(value: Any, ann: Any) -> bool:
    if ann is None or ann is type(None):
        return value is None
    if ann is bool:
        return isinstance(value, bool)
    if ann is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if ann is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if ann is str:
        return isinstance(value, str)
    if isinstance(ann, type):
        return isinstance(value, ann)
    return True


def describe(ann: Any) -> str:
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join(describe(a) for a in args)
    if origin in (list, tuple):
        return f"a list of {describe(args[0])}" if args else "a list"
    if ann is None or ann is type(None):
        return "null"
    return getattr(ann, "__name__", str(ann))
