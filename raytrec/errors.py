"""Errors a user sees: each names the key or file, the cause and the fix."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class RaytrecError(Exception):
    """Base class: the CLI prints these without a traceback."""


@dataclass(frozen=True)
class Problem:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


class ConfigError(RaytrecError):
    """One or more problems found in a config, reported together."""

    def __init__(self, problems: Iterable[Problem], source: str = "config") -> None:
        self.problems = list(problems)
        self.source = source
        noun = "problem" if len(self.problems) == 1 else "problems"
        lines = [f"{len(self.problems)} {noun} in {source}"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class ArgumentError(ValueError):
    """A component's argument ``arg`` (a key of its config section) is wrong; ``message`` says
    why, as read after the key. How plugins raise it: "Argument errors" in
    ``raytrec.hookspecs``."""

    def __init__(self, arg: str, message: str) -> None:
        super().__init__(arg, message)
        self.arg = arg
        self.message = message

    def __str__(self) -> str:
        # Read on its own (a traceback, a direct call), the message names its argument.
        named = re.match(rf"{re.escape(self.arg)}\b", self.message)
        return self.message if named else f"{self.arg} {self.message}"


def argument_problem(section: str, exc: ValueError, note: str = "") -> Problem:
    """``exc``, raised by the component of config ``section``, as a problem keyed by its
    argument (``ArgumentError``) or by the section (any other ``ValueError``); ``note`` is
    appended to its message."""
    if isinstance(exc, ArgumentError):
        return Problem(f"{section}.{exc.arg}", f"{exc.message}{note}")
    return Problem(section, f"{exc}{note}")


class PluginError(RaytrecError):
    """A plugin could not be loaded or registered."""


class DataError(RaytrecError):
    """Input data is missing, empty or malformed."""


class RunDirError(RaytrecError):
    """A run directory is missing, incomplete, or would be overwritten."""


class TrainingDiverged(RaytrecError):
    """The loss or the parameters became NaN or infinite."""


class ComponentError(RaytrecError):
    """A component (or raytrec itself) raised while training. ``details`` is the full
    traceback (shown with ``--debug``; it travels from a Ray worker with the error)."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message, details)
        self.details = details

    def __str__(self) -> str:
        return str(self.args[0])


class Interrupted(RaytrecError):
    """The user stopped a run (Ctrl-C); the message says how to continue it."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` — did you mean 'x'?`` or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


def unknown_name(kind: str, name: str, choices: Iterable[str]) -> str:
    names = sorted(choices)
    if not names:
        only = os.environ.get("RAYTREC_LOAD_PLUGINS")
        why = f" (RAYTREC_LOAD_PLUGINS={only} loads only those plugins)" if only else ""
        return f"unknown {kind} '{name}': no {kind} is registered{why}"
    return f"unknown {kind} '{name}'{did_you_mean(name, names)} available: {', '.join(names)}"


class DiskFull(RunDirError):
    """A write found no space left on its device; the message says what is kept."""


class ConformanceError(AssertionError):
    """A component broke a rule of its kind; the message names the component and the rule
    (``raytrec.testing``'s checks, and the check of every component before a run)."""


def fail_unless(condition: bool, component: Any, rule: str) -> None:
    if not condition:
        name = component if isinstance(component, str) else type(component).__name__
        raise ConformanceError(f"{name}: {rule}")
