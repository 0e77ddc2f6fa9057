"""What a tracking backend reads from the environment, which a submitted job must get from
the submitting shell: MLflow's settings and credentials (``MLFLOW_*``, and ``DATABRICKS_*``
for a ``databricks`` URI). They travel in the job's ``runtime_env`` (the request to the job
server), never as a file in its working directory."""

from __future__ import annotations

import os
from typing import Any

PREFIXES = {"mlflow": ("MLFLOW_", "DATABRICKS_")}


def tracking_env(config: dict[str, Any] | None) -> dict[str, str]:
    """The variables of this process that the backend of ``config`` (a raw config; None: not
    known here, as for a resumed run whose config is on the cluster) reads."""
    section = (config or {}).get("tracking") if config is not None else None
    if config is None:
        prefixes = tuple(p for found in PREFIXES.values() for p in found)
    elif isinstance(section, dict):
        prefixes = PREFIXES.get(str(section.get("backend")), ())
    else:
        prefixes = ()
    return {k: v for k, v in os.environ.items() if prefixes and k.startswith(prefixes)}
