"""Starting or joining Ray with quiet, test-friendly defaults."""

from __future__ import annotations

import logging
import os
from typing import Any

from raytrec import interrupts
from raytrec.debug import DEBUG_ENV, debugging

# Set by Ray in the driver of a submitted job.
JOB_CONFIG_ENV = "RAY_JOB_CONFIG_JSON_ENV_VAR"
# Set before Ray is imported: faster Train start-up, no usage reporting, no duplicate prints.
RAY_ENV_DEFAULTS = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_DATA_DISABLE_PROGRESS_BARS": "1",
    "RAY_TRAIN_ENABLE_PRINT_PATCH": "0",
    "RAY_TRAIN_ENABLE_V2_MIGRATION_WARNINGS": "0",
    "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.2",
    "RAY_TRAIN_ENABLE_PREEMPTION_WATCHER": "0",
    "RAY_TRAIN_METRICS_ENABLED": "0",
}


def set_ray_env() -> None:
    for key, value in RAY_ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)


def plugin_env() -> dict[str, str]:
    """Plugin selection (and debug mode) travel to workers, which load plugins themselves."""
    keys = ("RAYTREC_DISABLE_PLUGINS", "RAYTREC_LOAD_PLUGINS", DEBUG_ENV)
    return {k: os.environ[k] for k in keys if k in os.environ}


def ensure_ray(num_cpus: int | None = None, **kwargs: Any) -> None:
    """Join ``RAY_ADDRESS`` when set, else start a private local cluster."""
    set_ray_env()
    import ray

    if ray.is_initialized():
        return
    if not debugging():
        # A private cluster keeps Ray's token authentication; its notice that it is on is
        # not for raytrec's users.
        logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(
            logging.ERROR)
    address = os.environ.get("RAY_ADDRESS")
    # Worker and controller logs stay in Ray's session logs unless debugging: progress reaches
    # the driver through the run directory, failures as exceptions.
    options: dict[str, Any] = {"log_to_driver": debugging(),
                               "logging_level": logging.DEBUG if debugging() else logging.WARNING}
    if JOB_CONFIG_ENV not in os.environ:
        # A submitted job's runtime_env carries these already (raytrec.cluster.submit), and
        # Ray refuses a driver's runtime_env that sets them again.
        options["runtime_env"] = {"env_vars": plugin_env()}
    if address:
        ray.init(address=address, **options, **kwargs)
    else:
        # The dashboard hosts the State API that Train's placement-group cleaner queries.
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=True,
                 dashboard_host="127.0.0.1", **options, **kwargs)
    # ray.init replaced the SIGTERM handler (its C++ core prints a stack dump, then exits):
    # SIGTERM stops a run as Ctrl-C does.
    interrupts.reinstall()
