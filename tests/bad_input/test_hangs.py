"""Nothing waits for ever: resources are checked against the cluster, worker start-up has a
time-out, and Ctrl-C stops a run at any phase."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from raytrec.config.sections import ScalingSection
from raytrec.run.resources import resource_problems
from tests.bad_input.conftest import run_cli
from tests.conftest import write_config

TWO_CPUS = [{"CPU": 2.0, "memory": 1e9}]


def _scaling(**kw: Any) -> ScalingSection:
    return ScalingSection(**{"num_workers": 2, "cpus_per_worker": 1.0, "use_gpu": False, **kw})


def test_more_cpus_than_the_cluster_has() -> None:
    [problem] = resource_problems(_scaling(num_workers=3), TWO_CPUS, None)
    assert problem.key == "scaling.num_workers"
    assert "3 workers × 1 CPU (scaling.cpus_per_worker) need 3 CPUs, but the cluster has 2" \
        in problem.message
    assert resource_problems(_scaling(), TWO_CPUS, None) == []


def test_workers_that_fit_in_total_but_not_on_any_node() -> None:
    nodes = [{"CPU": 1.0}, {"CPU": 1.0}, {"CPU": 1.0}]
    [problem] = resource_problems(_scaling(cpus_per_worker=1.5), nodes, None)
    assert problem.key == "scaling.cpus_per_worker" and "only 0 of the 2 workers" in \
        problem.message


def test_gpus_and_autoscaling_limits() -> None:
    [problem] = resource_problems(_scaling(use_gpu=True), TWO_CPUS, None)
    assert problem.key == "scaling.use_gpu"
    # An autoscaler may add nodes: judged by the most it can grow to, not by the live nodes.
    assert resource_problems(_scaling(num_workers=8), TWO_CPUS, {"CPU": 16}) == []
    [problem] = resource_problems(_scaling(num_workers=8), TWO_CPUS, {"CPU": 4})
    assert "the cluster can grow to at most 4" in problem.message


@pytest.mark.ray
def test_too_many_workers_fail_at_once(tmp_path: Path, capsys, ray_cluster) -> None:
    cfg = write_config(tmp_path / "c.yaml", scaling={"num_workers": 3, "cpus_per_worker": 1})
    start = time.monotonic()
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 2 and time.monotonic() - start < 60
    assert "scaling.num_workers: 3 workers × 1 CPU" in err and "cluster has 2" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


@pytest.mark.ray
def test_worker_start_up_times_out(tmp_path: Path, capsys, ray_cluster) -> None:
    import ray

    @ray.remote(num_cpus=1.5)
    class Holder:
        def ready(self) -> bool:
            return True

    holder = Holder.remote()
    ray.get(holder.ready.remote(), timeout=60)
    try:
        cfg = write_config(tmp_path / "c.yaml", scaling={"num_workers": 2, "cpus_per_worker": 1,
                                                         "start_timeout_s": 3})
        code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    finally:
        ray.kill(holder)
    assert code == 2 and "Traceback" not in err
    assert "did not start within 3 s (scaling.start_timeout_s): the cluster has 2 CPUs" in err
    assert "0.5 free now" in err


# A shell starts background jobs with SIGINT ignored, and Python keeps that: give the run the
# handler an interactive terminal gives it.
_INTERACTIVE = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from raytrec.cli.main import main
"""
_WAITING = _INTERACTIVE + """
import ray
ray.init(address="local", num_cpus=2, include_dashboard=True, dashboard_host="127.0.0.1",
         log_to_driver=False)

@ray.remote(num_cpus=1.5)
class Holder:
    def ready(self):
        return True

holder = Holder.remote()
ray.get(holder.ready.remote())
"""


@pytest.mark.ray
@pytest.mark.parametrize("phase", ["waiting for workers", "training"])
def test_ctrl_c_stops_a_ray_run(tmp_path: Path, phase: str) -> None:
    """One Ctrl-C: the run stops within seconds, with exit 130 and the command that resumes it
    (Ray's own handler waited inside the signal handler while workers waited for CPUs)."""
    waiting = phase == "waiting for workers"
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 200},
                       scaling={"num_workers": 2, "cpus_per_worker": 1 if waiting else 0.5,
                                "start_timeout_s": 600})
    run = tmp_path / "run"
    script = tmp_path / "run_cli.py"
    script.write_text((_WAITING if waiting else _INTERACTIVE) + "sys.exit(main(sys.argv[1:]))\n")
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, str(script), "train", str(cfg), "--run-dir",
                             str(run)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        ready = (lambda: (run / "ray").is_dir()) if waiting \
            else (lambda: (run / "progress.jsonl").is_file())
        while time.monotonic() < deadline and not ready() and proc.poll() is None:
            time.sleep(0.2)
        time.sleep(3)  # inside Ray Train's start-up, or between epochs
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
        sent = time.monotonic()
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, output
    assert time.monotonic() - sent < 30
    assert f"interrupted; continue with raytrec train --resume {run}" in output
    assert "Traceback" not in output


@pytest.mark.ray
def test_a_search_whose_trial_cannot_fit_fails_at_once(tmp_path: Path, capsys,
                                                       ray_cluster) -> None:
    cfg = write_config(tmp_path / "s.yaml")
    cfg.write_text(cfg.read_text() + "search: {loss.margin: {uniform: [0.1, 1.0]}}\n"
                   "tune: {num_samples: 1, scheduler: fifo, cpus_per_trial: 3}\n")
    start = time.monotonic()
    code, _, err = run_cli(capsys, "tune", cfg, "--run-dir", tmp_path / "tune")
    assert code == 2 and time.monotonic() - start < 60
    assert "tune.cpus_per_trial: a trial needs 3 CPUs, but no node of the cluster has more " \
           "than 2" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


@pytest.mark.parametrize("command", ["train", "tune", "evaluate"])
def test_ctrl_c_before_a_run_directory_exists_writes_nothing(tmp_path: Path, capsys,
                                                              monkeypatch, command) -> None:
    """Ctrl-C while the data is read (train, tune) or while scoring (evaluate)."""
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    run = tmp_path / "run"
    if command == "evaluate":
        assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
        from raytrec.tasks.user_item import evaluation as user_item_eval

        target, argv = user_item_eval, ["evaluate", run]
        name = "evaluate_split"
    else:
        from raytrec.data.synthetic import SyntheticDataset

        if command == "tune":
            cfg.write_text(cfg.read_text() + "search: {loss.margin: {uniform: [0.1, 1.0]}}\n"
                           "tune: {num_samples: 1, scheduler: fifo}\n")
        target, argv, name = SyntheticDataset, [command, cfg, "--run-dir", run], "load"
    before = sorted(p.name for p in tmp_path.iterdir())

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(target, name, interrupted)
    code, _, err = run_cli(capsys, *argv)
    assert code == 130 and "raytrec: interrupted before anything was written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
