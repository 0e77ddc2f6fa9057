"""``--overwrite`` replaces only what raytrec made, and only once the new run has finished."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from raytrec.layout import MARKER
from raytrec.losses import Loss, LossInput, LossOutput
from tests.bad_input.conftest import run_cli
from tests.conftest import write_config


def _precious(tmp_path: Path) -> Path:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("x")
    return precious


def test_overwrite_refuses_a_directory_raytrec_did_not_make(tmp_path: Path, capsys) -> None:
    precious = _precious(tmp_path)
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", precious, "--overwrite")
    assert code == 2 and "was not made by raytrec" in err and MARKER in err
    assert (precious / "thesis.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "precious"]


def test_tune_overwrite_refuses_a_directory_raytrec_did_not_make(tmp_path: Path,
                                                                 capsys) -> None:
    precious = _precious(tmp_path)
    cfg = write_config(tmp_path / "s.yaml")
    text = cfg.read_text() + "search: {loss.margin: {uniform: [0.1, 1.0]}}\n"
    cfg.write_text(text + "tune: {num_samples: 1, scheduler: fifo}\n")
    code, _, err = run_cli(capsys, "tune", cfg, "--run-dir", precious, "--overwrite")
    assert code == 2 and "was not made by raytrec" in err
    assert (precious / "thesis.txt").read_text() == "x"


def test_overwrite_of_the_working_directory_is_refused(tmp_path: Path, capsys,
                                                       monkeypatch) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", ".", "--overwrite")
    assert code == 2 and "not made by raytrec" in err and cfg.is_file()
    # Even a run directory raytrec made is not replaced while the shell stands in it.
    run = tmp_path / "run"
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    monkeypatch.chdir(run)
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", run, "--overwrite")
    assert code == 2 and "current directory" in err and (run / "metrics.json").is_file()


def test_overwrite_replaces_a_run_and_keeps_no_copy(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    run = tmp_path / "run"
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    (run / "progress.jsonl").write_text("old\n")
    code, _, _ = run_cli(capsys, "train", cfg, "--run-dir", run, "--overwrite")
    assert code == 0 and "old" not in (run / "progress.jsonl").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "run"]
    assert "replaces" not in json.loads((run / MARKER).read_text())


class BoomLoss(Loss):
    """A plugin that breaks only once training runs (validation's tiny batch passes)."""

    def compute(self, batch: LossInput) -> LossOutput:
        if len(batch.pos) > 8:
            raise RuntimeError("boom")
        return LossOutput(batch.pos.mean() - batch.neg.mean())


def test_a_failure_after_overwrite_keeps_the_old_run(tmp_path: Path, capsys,
                                                     extra_components) -> None:
    extra_components("loss", "boom", BoomLoss)
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    run = tmp_path / "run"
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    before = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    broken = write_config(tmp_path / "b.yaml", loss={"name": "boom"})
    code, _, err = run_cli(capsys, "train", broken, "--run-dir", run, "--overwrite")
    assert code == 2 and "Traceback" not in err
    assert f"the earlier run in {run} is kept as it was" in err
    after = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert after == before
    # The failed run keeps its error log beside the restored one.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.yaml", "c.yaml", "run",
                                                          "run.failed"]
    assert "RuntimeError: boom" in (tmp_path / "run.failed" / "logs" /
                                    "error-rank0.log").read_text()


def test_an_interrupted_overwrite_keeps_the_old_run_until_resumed(
        tmp_path: Path, capsys, interrupt_epoch) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 2})
    run = tmp_path / "run"
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    old_metrics = (run / "metrics.json").read_text()
    interrupt_epoch(2)
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", run, "--overwrite")
    kept = tmp_path / "run.previous"
    assert code == 130 and f"--resume {run}" in err and str(kept) in err
    assert (kept / "metrics.json").read_text() == old_metrics
    interrupt_epoch(None)
    assert run_cli(capsys, "train", "--resume", run)[0] == 0
    assert not kept.exists() and (run / "metrics.json").is_file()


@pytest.mark.parametrize("where", ["file", "under-file"])
def test_run_dir_that_is_or_lies_under_a_file(tmp_path: Path, capsys, where: str) -> None:
    afile = tmp_path / "afile"
    afile.write_text("mine")
    target = afile if where == "file" else afile / "sub"
    cfg = write_config(tmp_path / "c.yaml")
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", target)
    assert code == 2 and "is a file, not a directory" in err
    assert afile.read_text() == "mine"


def test_run_dir_that_cannot_be_created(tmp_path: Path, capsys, monkeypatch) -> None:
    import tempfile

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    cfg = write_config(tmp_path / "c.yaml")
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "ro" / "deep" / "run")
    assert code == 2 and "cannot create it (Permission denied)" in err
    assert not (tmp_path / "ro").exists()


def test_run_dir_dot_that_holds_files(tmp_path: Path, capsys, monkeypatch) -> None:
    cfg = write_config(tmp_path / "c.yaml")
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", ".")
    assert code == 2 and "already exists" in err
    assert sorted(os.listdir(tmp_path)) == ["c.yaml"]


def test_staging_never_clobbers_a_users_directory(tmp_path: Path, capsys) -> None:
    # The old code cleared "<run>.staging" whatever it held.
    mine = tmp_path / "run.staging"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    assert run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")[0] == 0
    assert (mine / "notes.txt").read_text() == "mine"


def test_marker_is_written_with_the_run(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    run = tmp_path / "run"
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    assert json.loads((run / MARKER).read_text())["kind"] == "run"
    assert torch.load(run / "model.pt", weights_only=False)["finished"]


def test_overwriting_an_unfinished_replacement_keeps_the_last_finished_run(
        tmp_path: Path, capsys, interrupt_epoch, extra_components) -> None:
    """A finished, B replaces it and is interrupted, C replaces B and fails: A comes back."""
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 2})
    run = tmp_path / "run"
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    finished = (run / "metrics.json").read_text()
    interrupt_epoch(1)
    assert run_cli(capsys, "train", cfg, "--run-dir", run, "--overwrite")[0] == 130
    interrupt_epoch(None)
    extra_components("loss", "boom", BoomLoss)
    broken = write_config(tmp_path / "b.yaml", loss={"name": "boom"})
    assert run_cli(capsys, "train", broken, "--run-dir", run, "--overwrite")[0] == 2
    assert (run / "metrics.json").read_text() == finished
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.yaml", "c.yaml", "run",
                                                          "run.failed"]
