"""``raytrec submit`` and ``raytrec jobs`` against a real ``ray start --head`` cluster."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from raytrec.cluster.jobs import wait_until_done
from raytrec.testing.cluster import Head, wait_for
from tests.cluster.cli import JOB_TIMEOUT_S, cli, job_id
from tests.conftest import write_config

pytestmark = pytest.mark.ray


def test_a_submitted_training_gets_the_plugins_it_names(head: Head, offsite_site: Path,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The example distribution's loss and a retriever of a distribution only this process
    has: both reach the driver and the Ray Train worker through the shipped wheels. The run
    is tracked in MLflow where this shell's ``MLFLOW_TRACKING_URI`` says, which only the
    job's request carries to the cluster."""
    from mlflow.tracking import MlflowClient
    from ray.job_submission import JobSubmissionClient

    client = JobSubmissionClient(head.address)
    lacking = client.submit_job(entrypoint="python -c \"import importlib.metadata as m; "
                                "m.distribution('raytrec-offsite')\"")
    assert wait_until_done(client, lacking, 60) == "FAILED"

    config = write_config(tmp_path / "tiny.yaml", loss={"name": "logistic"},
                          retriever={"name": "offsite-exact"}, train={"epochs": 2},
                          scaling={"num_workers": 1, "cpus_per_worker": 1},
                          tracking={"backend": "mlflow"})
    store = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    (tmp_path / ".env").write_text("TOKEN=never-shipped\n")
    run = tmp_path / "run"
    done = cli("submit", config, "--address", head.address, "--run-dir", f"file://{run}",
               "--wait", site=offsite_site)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"staged \d+\.\d\d MiB for the job: raytrec-0\.1\.0-py3-none-any\.whl, "
                     r"raytrec_example-0\.1\.0-py3-none-any\.whl, raytrec_offsite-0\.2\.0", out)
    assert "is not under a --shared directory" in out  # the run dir is a local path
    flat = " ".join(out.split())  # the table's title wraps with the table's width
    assert "test metrics (best epoch" in flat and "through offsite-exact" in flat, out
    assert re.search(r"recall@20 │ +0\.\d{4}", out)
    assert out.rstrip().endswith(": SUCCEEDED")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["retriever"]["name"] == "offsite-exact"
    assert "epoch 2/2  loss " in out  # the job's log is no terminal: a line an epoch
    client = MlflowClient(tracking_uri=store)
    [tracked] = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    assert tracked.info.status == "FINISHED"
    assert tracked.data.params["retriever.name"] == "offsite-exact"
    assert tracked.data.metrics["test/recall_at_20"] == pytest.approx(
        metrics["test"]["recall@20"])

    status = cli("jobs", "status", job_id(out), "--address", head.address)
    assert status.returncode == 0 and f"{job_id(out)}: SUCCEEDED" in status.stdout
    listed = cli("jobs", "list", "--address", head.address)
    assert job_id(out) in listed.stdout
    missing = cli("jobs", "status", "raytrec-nosuch", "--address", head.address)
    assert missing.returncode == 2
    assert "no job 'raytrec-nosuch' on http://127.0.0.1:" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_jobs_stop_ends_a_long_job_and_keeps_its_run(head: Head, offsite_site: Path,
                                                     tmp_path: Path) -> None:
    config = write_config(tmp_path / "long.yaml", loss={"name": "logistic"},
                          retriever={"name": "offsite-exact"}, train={"epochs": 100000},
                          eval={"every": 1000})
    run = tmp_path / "run"
    done = cli("submit", config, "--address", head.address, "--run-dir", run,
               site=offsite_site)
    assert done.returncode == 0, done.stderr
    job = job_id(done.stdout)
    wait_for(lambda: (run / "checkpoints").is_dir() and any((run / "checkpoints").iterdir()),
             JOB_TIMEOUT_S, "a checkpoint of the long job")
    stopped = cli("jobs", "stop", job, "--address", head.address)
    assert stopped.returncode == 0, stopped.stderr
    assert f"job {job}: STOPPED" in stopped.stdout
    logs = cli("jobs", "logs", job, "--address", head.address).stdout
    # raytrec saw a Ctrl-C: it stopped cleanly and says how to go on
    assert f"interrupted; continue with raytrec train --resume {run}" in logs
    assert (run / "config.yaml").is_file() and any((run / "checkpoints").iterdir())
