"""SIGTERM (a scheduler, ``timeout``, ``kill``, Ray Jobs' stop) stops a run as Ctrl-C does: at a
safe point, with the ``--resume`` line, exit 130, no stack dump; ``--resume`` finishes it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.bad_input.conftest import run_cli
from tests.conftest import write_config

# Epochs of the tiny test data take milliseconds: slowed, a signal lands mid-run.
_SLOW_EPOCHS = """
import sys, time
from raytrec.train import loop
real = loop.run_epoch
def slow(*args, **kwargs):
    time.sleep(0.3)
    return real(*args, **kwargs)
loop.run_epoch = slow
from raytrec.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _terminated(tmp_path: Path, script: str, cfg: Path, run: Path,
                sig: int = signal.SIGTERM) -> tuple[int, str, float]:
    """``raytrec train cfg --run-dir run``, sent ``sig`` (to the process, as ``kill`` and
    ``timeout`` do) once its first epoch is in; its exit code, output and seconds to exit.
    Nothing of raytrec's is left in its ``$TMPDIR``."""
    path = tmp_path / "raytrec_cli.py"
    path.write_text(script)
    scratch = tmp_path / "scratch"
    # Ray's sockets live under $TMPDIR, and a socket's path has at most 107 bytes.
    scratch.symlink_to(tempfile.mkdtemp(prefix="rt-", dir="/tmp"))
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "TMPDIR": str(scratch.resolve())}
    proc = subprocess.Popen([sys.executable, str(path), "train", str(cfg), "--run-dir",
                             str(run)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and \
                not (run / "progress.jsonl").is_file():
            time.sleep(0.1)
        time.sleep(1)
        proc.send_signal(sig)
        sent = time.monotonic()
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    leftover = [p.name for p in scratch.iterdir() if p.name.startswith("raytrec-")]
    shutil.rmtree(scratch.resolve(), ignore_errors=True)
    assert not leftover, leftover
    return proc.returncode, output, time.monotonic() - sent


def _stopped_cleanly(code: int, output: str, run: Path) -> None:
    assert code == 130, output
    assert f"interrupted; continue with raytrec train --resume {run}" in output
    assert "Traceback" not in output and "SIGTERM received" not in output
    assert not list(run.rglob(".tmp_*")) and not list(run.glob(".*.tmp"))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_stops_an_in_process_run_that_resume_finishes(tmp_path: Path, capsys,
                                                              sig: int) -> None:
    """SIGHUP: the terminal that ran the command was closed."""
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 12})
    run = tmp_path / "run"
    code, output, _ = _terminated(tmp_path, _SLOW_EPOCHS, cfg, run, sig)
    _stopped_cleanly(code, output, run)
    assert not (run / "metrics.json").exists()
    code, _, err = run_cli(capsys, "train", "--resume", run)
    assert code == 0, err
    assert (run / "metrics.json").is_file()


@pytest.mark.ray
def test_sigterm_stops_a_run_on_two_ray_workers(tmp_path: Path) -> None:
    """Before, Ray's C++ core printed a stack dump and the process aborted (exit 134)."""
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 8},
                       scaling={"num_workers": 2, "cpus_per_worker": 0.5})
    run = tmp_path / "run"
    code, output, seconds = _terminated(tmp_path, _SLOW_EPOCHS, cfg, run)
    _stopped_cleanly(code, output, run)
    assert seconds < 30
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    done = subprocess.run([sys.executable, "-m", "raytrec.cli.main", "train", "--resume",
                           str(run)], env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert (run / "metrics.json").is_file()
