"""What a killed or failed write leaves never blocks the next command: ``--resume`` clears a
half-copied checkpoint, and a full disk is one message, after which ``--resume`` works."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.bad_input.conftest import run_cli
from tests.conftest import write_config

# SIGKILL this process while it copies the n-th file into a checkpoint's temporary folder
# (``checkpoints/.tmp_N``), as a kill -9, an OOM killer or a power cut would.
_KILLED_MID_COPY = """
import os, shutil, signal, sys
real, calls = shutil.copyfile, [0]
def copyfile(src, dst, *args, **kwargs):
    if "/.tmp_" in str(dst):
        calls[0] += 1
        if calls[0] == int(os.environ["KILL_AT"]):
            os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst, *args, **kwargs)
shutil.copyfile = copyfile
from raytrec.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _raytrec(tmp_path: Path, script: str, *argv: object,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    path = tmp_path / "raytrec_cli.py"
    path.write_text(script)
    return subprocess.run([sys.executable, str(path), *map(str, argv)], capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.getcwd(), **(env or {})})


def test_resume_after_a_sigkill_during_the_checkpoint_copy(
        tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe's case: every later ``--resume`` retrained an epoch, then failed with
    FileExistsError "please report it", until the user deleted ``.tmp_N`` by hand."""
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 4})
    run, scratch = tmp_path / "run", tmp_path / "scratch"
    scratch.mkdir()
    # A checkpoint is two files: the third epoch's is killed with one of them copied.
    killed = _raytrec(tmp_path, _KILLED_MID_COPY, "train", cfg, "--run-dir", run,
                      env={"KILL_AT": "6", "TMPDIR": str(scratch)})
    assert killed.returncode == -9
    assert [p.name for p in (run / "checkpoints").glob(".tmp_*")] == [".tmp_000002"]
    assert [p.name for p in scratch.iterdir() if p.name.startswith("raytrec-")]
    (run / ".metrics.json.tmp").write_text("{")  # killed while the outputs were copied
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # $TMPDIR, as read at start-up
    code, out, err = run_cli(capsys, "train", "--resume", run)
    assert code == 0, err
    assert "note: removed " in out and ".tmp_000002" in out
    assert (run / "metrics.json").is_file()
    assert not list(run.rglob(".tmp_*")) and not list(run.glob(".*.tmp"))
    # The killed process's scratch folder in $TMPDIR went with it.
    assert not [p for p in scratch.iterdir() if p.name.startswith("raytrec-")]


def test_a_full_disk_while_a_checkpoint_is_copied(tmp_path: Path, capsys,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 4})
    run = tmp_path / "run"
    real, calls = shutil.copyfile, [0]

    def copyfile(src, dst, *args, **kwargs):
        if "/.tmp_" in str(dst):
            calls[0] += 1
            if calls[0] == 6:  # the third epoch's second file
                real(src, dst, *args, **kwargs)  # a part of it, as a full disk leaves
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", copyfile)
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", run)
    assert code == 2 and "Traceback" not in err and "please report it" not in err
    assert f"no space left on the device for {run.resolve()}/checkpoints/.tmp_000002" in err
    assert "free there); the run keeps its last complete checkpoint, checkpoint_000001; free " \
           "some space" in err
    assert f"--resume {run} continues it" in err
    assert not list(run.rglob(".tmp_*"))
    monkeypatch.undo()
    code, _, err = run_cli(capsys, "train", "--resume", run)
    assert code == 0, err
    assert (run / "metrics.json").is_file()


def test_a_full_disk_while_the_data_is_prepared(tmp_path: Path, capsys,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The staging folder goes, and the message names the run directory, not the cwd."""
    from raytrec.run import job

    def no_room(*args, **kwargs):
        raise OSError(errno.ENOSPC, "Error writing bytes to file")  # as pyarrow says it

    monkeypatch.setattr(job, "check_against_data", no_room)
    cfg = write_config(tmp_path / "c.yaml")
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "runs" / "r")
    assert code == 2 and "Traceback" not in err
    assert f"no space left on the device for {tmp_path}/runs/r (" in err
    assert "nothing was kept; free some space, or choose a --run-dir on another disk" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_resume_of_a_run_killed_while_its_data_was_prepared(tmp_path: Path, capsys,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """Killed before the run existed: its staging folder is removed and the message says to
    start again (before: "not a raytrec run directory", and the folder stayed)."""
    staging = tmp_path / ".run.staging-x1y2"
    (staging / "data").mkdir(parents=True)
    (staging / ".raytrec").write_text("{}")
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "train", "--resume", "run")
    assert code == 2 and "run is not a raytrec run directory" in err
    assert "a raytrec train of run was stopped while it prepared the data" in err
    assert "start it again with raytrec train CONFIG --run-dir run" in err
    assert list(tmp_path.iterdir()) == []
