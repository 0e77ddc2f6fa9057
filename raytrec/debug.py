"""``--debug``: set by the CLI, passed to Ray workers in their environment."""

from __future__ import annotations

import os

DEBUG_ENV = "RAYTREC_DEBUG"


def debugging() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")
