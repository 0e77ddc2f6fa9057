"""Damaged checkpoints, configs and models: the file is named, an intact earlier checkpoint is
used, and nothing is shown as a traceback."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from raytrec.train.checkpoint import damage
from tests.bad_input.conftest import run_cli
from tests.conftest import write_config


@pytest.fixture
def finished_run(tmp_path: Path, capsys) -> Path:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 3})
    run = tmp_path / "run"
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    return run


def _newest_state(run: Path) -> Path:
    return sorted((run / "checkpoints").glob("checkpoint_*/state.pt"))[-1]


@pytest.mark.parametrize("damage", ["truncated", "empty"])
def test_resume_passes_over_a_damaged_checkpoint(finished_run: Path, capsys,
                                                 damage: str) -> None:
    newest = _newest_state(finished_run)
    before = sorted((finished_run / "checkpoints").glob("checkpoint_*"))[-2]
    data = newest.read_bytes()
    newest.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"")
    expected = json.loads((finished_run / "metrics.json").read_text())
    code, out, err = run_cli(capsys, "train", "--resume", finished_run)
    assert code == 0, err
    assert f"checkpoint {newest} is damaged" in out and "resuming from the one before it" in out
    assert f"resuming from {before}\n" in out
    # The checkpoint before the final one is epoch 3's: only the last scoring runs again.
    result = json.loads((finished_run / "metrics.json").read_text())
    assert result["test"] == pytest.approx(expected["test"])


def test_resume_with_every_checkpoint_damaged_names_the_files(finished_run: Path,
                                                              capsys) -> None:
    states = sorted((finished_run / "checkpoints").glob("checkpoint_*/state.pt"))
    for state in states:
        state.write_bytes(b"")
    code, _, err = run_cli(capsys, "train", "--resume", finished_run)
    assert code == 2 and "Traceback" not in err and "no checkpoint can be read" in err
    assert all(str(s) in err for s in states)


def test_damage_only_the_loader_sees_falls_back_too(finished_run: Path) -> None:
    from raytrec.train.session import LocalSession

    newest = _newest_state(finished_run)
    # A zip that is no torch file: the driver's cheap check passes it, only loading fails.
    with zipfile.ZipFile(newest, "w") as archive:
        archive.writestr("junk", "not a state")
    assert damage(newest) is None
    state = LocalSession(finished_run).load_state()
    assert state is not None and state["epoch"] == 3


def test_broken_run_config(finished_run: Path, capsys) -> None:
    (finished_run / "config.yaml").write_text("model: [unclosed\n")
    for argv in (("evaluate", finished_run), ("train", "--resume", finished_run)):
        code, _, err = run_cli(capsys, *argv)
        assert code == 2 and "Traceback" not in err
        assert str(finished_run / "config.yaml") in err and "not valid YAML" in err


def test_truncated_model(finished_run: Path, capsys) -> None:
    model = finished_run / "model.pt"
    model.write_bytes(model.read_bytes()[:100])
    code, _, err = run_cli(capsys, "evaluate", finished_run)
    assert code == 2 and "Traceback" not in err
    assert f"model {model} cannot be read" in err and f"--resume {finished_run}" in err
    assert run_cli(capsys, "train", "--resume", finished_run)[0] == 0
    assert run_cli(capsys, "evaluate", finished_run)[0] == 0


def test_evaluate_a_directory_that_is_no_run(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "evaluate", tmp_path / "nowhere")
    assert code == 2 and "is not a raytrec run directory" in err
