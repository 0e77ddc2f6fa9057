"""A run, tune or export directory has one writer: a second one is refused with who holds it,
and touches nothing; the lock of a process that died never blocks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from raytrec.cli.main import main
from raytrec.run.lock import lock_path
from tests.bad_input.conftest import run_cli
from tests.conftest import write_config


@pytest.fixture
def during_epoch(monkeypatch: pytest.MonkeyPatch) -> Callable[[int, list[str]], dict]:
    """``during_epoch(n, argv)``: run ``raytrec argv`` (in this process, as a second process
    would) when the loop starts its n-th epoch; returns its exit code and stderr then."""
    from raytrec.train import loop

    real = loop.run_epoch

    def arm(n: int, argv: list[str]) -> dict:
        seen: dict = {"calls": 0}

        def epoch(*args, **kwargs):
            seen["calls"] += 1
            if seen["calls"] == n:
                seen["code"] = main([str(a) for a in argv])
            return real(*args, **kwargs)

        monkeypatch.setattr(loop, "run_epoch", epoch)
        return seen

    return arm


def _epochs(run: Path) -> list[int]:
    """The epochs in a run's progress (the line of the finished run's test aside)."""
    rows = [json.loads(line) for line in (run / "progress.jsonl").open()]
    return [row["epoch"] for row in rows if not row.get("finished")]


def _holder_named(err: str) -> None:
    assert "is being written by another raytrec process (pid " in err, err
    assert f"pid {os.getpid()} on host " in err and "`raytrec train" in err and "since " in err
    assert "Traceback" not in err


def test_a_second_train_of_the_same_run_dir_is_refused(tmp_path: Path, capsys,
                                                       during_epoch) -> None:
    """The probe's case: ``train --overwrite`` of a directory another train writes."""
    first = write_config(tmp_path / "first.yaml", train={"epochs": 4})
    second = write_config(tmp_path / "second.yaml", train={"epochs": 2})
    run = tmp_path / "same"
    seen = during_epoch(2, ["train", second, "--run-dir", run, "--overwrite"])
    code, _, err = run_cli(capsys, "train", first, "--run-dir", run)
    assert code == 0 and seen["code"] == 2
    _holder_named(err)
    assert "wait for it to end, stop it, or choose another --run-dir" in err
    # One run's directory: its own config and four epochs of its own progress.
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["epochs"] == 4
    epochs = _epochs(run)
    assert epochs == [1, 2, 3, 4]
    assert not lock_path(run).exists() and not list(tmp_path.glob("same.*"))


def test_a_resume_while_the_run_trains_is_refused(tmp_path: Path, capsys,
                                                  during_epoch) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 3})
    run = tmp_path / "run"
    seen = during_epoch(3, ["train", "--resume", run])
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", run)
    assert code == 0 and seen["code"] == 2
    _holder_named(err)
    epochs = _epochs(run)
    assert epochs == [1, 2, 3]


def test_two_resumes_of_one_run(tmp_path: Path, capsys, interrupt_epoch,
                                during_epoch) -> None:
    """The probe's interleaved progress (17, 17, 18, 18, ...) and "please report it"."""
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 4})
    run = tmp_path / "run"
    interrupt_epoch(2)
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 130
    seen = during_epoch(1, ["train", "--resume", run])
    code, _, err = run_cli(capsys, "train", "--resume", run)
    assert code == 0 and seen["code"] == 2
    _holder_named(err)
    epochs = _epochs(run)
    assert epochs == [1, 2, 3, 4]


def test_a_tune_directory_and_an_export_have_one_writer(tmp_path: Path, capsys,
                                                        during_epoch) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 2})
    run, out = tmp_path / "run", tmp_path / "export"
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    assert run_cli(capsys, "export", run, "--out", out)[0] == 0
    search = write_config(tmp_path / "s.yaml", train={"epochs": 2})
    search.write_text(search.read_text() + "search: {loss.margin: {uniform: [0.1, 1.0]}}\n"
                      "tune: {num_samples: 1, scheduler: fifo}\n")
    for argv, flag in ((["export", run, "--out", out, "--overwrite"], "--out"),
                       (["tune", search, "--run-dir", tmp_path / "t"], "--run-dir")):
        holder = _hold_in_another_process(out if flag == "--out" else tmp_path / "t")
        try:
            code, _, err = run_cli(capsys, *argv)
        finally:
            holder.kill()
            holder.wait()
        assert code == 2 and "is being written by another raytrec process" in err, err
    assert (out / "manifest.json").is_file() and not (tmp_path / "t").exists()


_HOLD = """
import sys, time
from pathlib import Path
from raytrec.run.lock import writing
with writing(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold_in_another_process(directory: Path, seconds: float = 120) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(directory), str(seconds)],
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_the_lock_of_a_killed_writer_does_not_block(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 2})
    run = tmp_path / "run"
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    holder = _hold_in_another_process(run)
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", run, "--overwrite")
    assert code == 2 and f"pid {holder.pid} on host" in err
    os.kill(holder.pid, signal.SIGKILL)  # no clean-up of its own: the file stays
    holder.wait()
    assert lock_path(run).exists()
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", run, "--overwrite")
    assert code == 0, err
    assert not lock_path(run).exists()


def test_readers_work_while_a_run_trains(tmp_path: Path, capsys, during_epoch) -> None:
    """``evaluate`` and ``recommend`` take no lock: during training they read the newest
    complete checkpoint."""
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 3})
    run = tmp_path / "run"
    evaluated = during_epoch(3, ["evaluate", run, "--json"])
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    assert evaluated["code"] == 0
    seen = during_epoch(3, ["recommend", tmp_path / "run2", "--user", "3", "--json"])
    assert run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run2")[0] == 0
    assert seen["code"] == 0
