"""Errors a user sees: each names the key or file, the cause and the fix."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass


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
