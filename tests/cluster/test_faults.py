"""A 2-worker run on a real cluster loses a worker after its second checkpoint, another in the
middle of an evaluation, then its driver; resubmitted with ``--resume``, it finishes with the
test metrics of an uninterrupted run of the same seed."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from raytrec.cluster.jobs import wait_until_done
from raytrec.testing.cluster import Head, train_workers, wait_for
from tests.cluster.cli import JOB_TIMEOUT_S, cli, final_test_metrics, job_id
from tests.conftest import write_config

pytestmark = pytest.mark.ray

# Big enough that an epoch takes a while on two workers, small enough for the suite.
DATA = {"name": "synthetic", "num_users": 1500, "num_items": 800, "interactions_per_user": 25,
        "num_clusters": 8, "seed": 1}
EPOCHS = 8
PAUSE_S = 1.5  # each search of the fault runs waits this long: time to kill its worker


def config(folder: Path, signal_dir: Path | None) -> Path:
    retriever = {"name": "offsite-exact"}
    if signal_dir is not None:
        signal_dir.mkdir()
        retriever |= {"signal_dir": str(signal_dir), "pause_s": PAUSE_S}
    return write_config(folder / "config.yaml", data=DATA, retriever=retriever,
                        train={"epochs": EPOCHS, "seed": 3},
                        scaling={"num_workers": 2, "cpus_per_worker": 1})


def submit(head: Head, site: Path, *args: object) -> str:
    done = cli("submit", *args, "--address", head.address, site=site)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return job_id(done.stdout)


def status(head: Head, job: str) -> str:
    from ray.job_submission import JobSubmissionClient

    return str(JobSubmissionClient(head.address).get_job_status(job))


def finished(head: Head, job: str) -> str:
    from ray.job_submission import JobSubmissionClient

    return wait_until_done(JobSubmissionClient(head.address), job, JOB_TIMEOUT_S)


def logs(head: Head, job: str) -> str:
    from ray.job_submission import JobSubmissionClient

    return JobSubmissionClient(head.address).get_job_logs(job)


def checkpoints(run: Path) -> int:
    return len(list((run / "ray" / "train").glob("checkpoint_*")))


def close_to(found: dict, reference: dict) -> float:
    """The largest relative difference of two runs' test metrics; the suite allows 1%."""
    return max(abs(found[k] - v) / abs(v) for k, v in reference.items() if v)


@pytest.fixture(scope="module")
def reference(head: Head, offsite_site: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("reference")
    job = submit(head, offsite_site, config(folder, None), "--run-dir", folder / "run")
    assert finished(head, job) == "SUCCEEDED", logs(head, job)[-3000:]
    return final_test_metrics(folder / "run")


def test_a_run_survives_lost_workers_and_a_lost_driver(head: Head, offsite_site: Path,
                                                       tmp_path: Path, reference: dict) -> None:
    """A worker killed after the second checkpoint, another while it evaluates, then the
    driver: Ray Train restarts the workers by itself; the resubmitted run finishes."""
    from ray.job_submission import JobSubmissionClient

    signals, run = tmp_path / "signals", tmp_path / "run"
    job = submit(head, offsite_site, config(tmp_path, signals), "--run-dir", run)
    wait_for(lambda: checkpoints(run) >= 2, JOB_TIMEOUT_S, "two checkpoints")
    first = train_workers(head.address)
    assert len(first) == 2
    os.kill(first[0], signal.SIGKILL)
    second = replaced(head, first)
    restarted = time.time()

    def searching() -> int | None:
        for path in signals.iterdir():
            pid, started = int(path.name.split("-")[1]), float(path.name.split("-")[2])
            if pid in second and started > restarted and time.time() - started < PAUSE_S / 2:
                return pid
        return None

    evaluating = wait_for(searching, JOB_TIMEOUT_S, "a new worker evaluating", every_s=0.05)
    os.kill(evaluating, signal.SIGKILL)
    replaced(head, second)
    assert status(head, job) == "RUNNING"

    driver = JobSubmissionClient(head.address).get_job_info(job).driver_info
    assert driver is not None
    os.kill(int(driver.pid), signal.SIGKILL)
    assert finished(head, job) == "FAILED"
    # The driver owned the run's Ray Train controller: its workers go with it.
    wait_for(lambda: train_workers(head.address) == [] or None, 60, "the lost run's workers")
    assert not (run / "metrics.json").exists()

    again = submit(head, offsite_site, "--resume", run)
    assert finished(head, again) == "SUCCEEDED", logs(head, again)[-3000:]
    assert f"resuming from {run}/ray/train/checkpoint_" in logs(head, again)
    found = final_test_metrics(run)
    assert close_to(found, reference) < 0.01, (found, reference)


def replaced(head: Head, workers: list[int]) -> list[int]:
    """The new workers Ray Train started in place of ``workers``."""
    return wait_for(lambda: (w := train_workers(head.address)) and len(w) == len(workers)
                    and not set(w) & set(workers) and w, JOB_TIMEOUT_S, "new workers")
