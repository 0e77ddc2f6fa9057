"""The ``mlflow`` backend, on MLflow's client (``MlflowClient``): any tracking URI MLflow
takes (a server, ``sqlite:///…``, Databricks), credentials from MLflow's environment
variables. A search's trials are runs nested under the search's run (MLflow's
``mlflow.parentRunId`` tag), as the MLflow UI groups them."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from raytrec.tracking.tracker import Tracker

BATCH = 100  # MLflow takes at most 100 parameters or tags, 1000 metrics, in one request
# A server that does not answer is found out in seconds, not after MLflow's default of 7
# retries with growing waits and 120 s each; a user's own setting wins.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR":
                 "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "15"}
PARENT = "mlflow.parentRunId"


class MlflowTracker(Tracker):
    def __init__(self, uri: str | None, experiment: str, name: str, run_id: str | None,
                 parent: str | None, running: bool = True) -> None:
        super().__init__()
        for key, value in HTTP_DEFAULTS.items():
            os.environ.setdefault(key, value)
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri=uri)
        with _quiet_retries():
            self._start(experiment, name, run_id, parent, running)

    def _start(self, experiment: str, name: str, run_id: str | None, parent: str | None,
               running: bool) -> None:
        if run_id is not None:
            if running:
                self.client.update_run(run_id, status="RUNNING")
            else:
                self.client.get_run(run_id)  # that it is there
            self.run_id = run_id
            return
        found = self.client.get_experiment_by_name(experiment)
        if found is None:
            try:
                experiment_id = self.client.create_experiment(experiment)
            except Exception:  # made meanwhile by another run
                again = self.client.get_experiment_by_name(experiment)
                if again is None:
                    raise
                experiment_id = again.experiment_id
        else:
            experiment_id = found.experiment_id
        tags = {PARENT: parent} if parent else {}
        self.run_id = self.client.create_run(experiment_id, run_name=name,
                                             tags=tags).info.run_id

    def _log_params(self, params: dict[str, str]) -> None:
        from mlflow.entities import Param

        items = [Param(k, v) for k, v in params.items()]
        for start in range(0, len(items), BATCH):
            self.client.log_batch(self.run_id, params=items[start:start + BATCH])

    def _log_metrics(self, metrics: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, v, now, step) for k, v in metrics.items()]
        for start in range(0, len(items), 10 * BATCH):
            self.client.log_batch(self.run_id, metrics=items[start:start + 10 * BATCH])

    def _set_tags(self, tags: dict[str, str]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(k, v) for k, v in tags.items()]
        for start in range(0, len(items), BATCH):
            self.client.log_batch(self.run_id, tags=items[start:start + BATCH])

    def _finish(self, status: str) -> None:
        self.client.set_terminated(self.run_id, status)


@contextmanager
def _quiet_retries() -> Iterator[None]:
    """urllib3's line for each retry of a server that does not answer: the one warning
    about it is raytrec's."""
    pool = logging.getLogger("urllib3.connectionpool")
    level = pool.level
    pool.setLevel(logging.ERROR)
    try:
        yield
    finally:
        pool.setLevel(level)
