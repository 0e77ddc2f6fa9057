"""``--run-dir`` as the user meant it: through a symbolic link, with a literal ``~``, empty;
and ``--resume`` of a run whose config.yaml was edited since."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.bad_input.conftest import run_cli
from tests.conftest import write_config


def test_run_dir_through_a_link_to_an_empty_folder(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    (tmp_path / "disk").mkdir()
    (tmp_path / "current").symlink_to(tmp_path / "disk")
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "current")
    assert code == 0, err
    assert (tmp_path / "current").is_symlink()
    assert (tmp_path / "disk" / "metrics.json").is_file()


def test_overwrite_through_a_link_to_an_earlier_run_keeps_the_link(tmp_path: Path,
                                                                  capsys) -> None:
    """Before, the link itself was renamed to ``current.previous`` and the run failed on
    rmtree."""
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    assert run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "runs" / "a")[0] == 0
    (tmp_path / "current").symlink_to(tmp_path / "runs" / "a")
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "current",
                           "--overwrite", "--set", "train.epochs=2")
    assert code == 0, err
    assert (tmp_path / "current").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "current", "runs"]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["a"]
    config = yaml.safe_load((tmp_path / "current" / "config.yaml").read_text())
    assert config["train"]["epochs"] == 2


def test_a_link_that_leads_nowhere_is_refused(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "dangling")
    assert code == 2 and "is a symbolic link to" in err and "which does not exist" in err
    assert not (tmp_path / "gone").exists()


def test_a_literal_tilde_is_the_home_directory(tmp_path: Path, capsys,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """``--run-dir=~/x`` reaches raytrec unexpanded; before, it made ``./~/x``."""
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 1})
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir=~/x")
    assert code == 0, err
    assert (tmp_path / "home" / "x" / "metrics.json").is_file()
    assert not (tmp_path / "~").exists()
    code, _, err = run_cli(capsys, "evaluate", "~/x", "--json")
    assert code == 0, err


@pytest.mark.parametrize("flag", ["--run-dir", "--resume"])
def test_an_empty_directory_argument_is_refused(tmp_path: Path, capsys,
                                                monkeypatch: pytest.MonkeyPatch,
                                                flag: str) -> None:
    """``--run-dir "$UNSET"``: before, a run went to the default directory."""
    cfg = write_config(tmp_path / "c.yaml")
    monkeypatch.chdir(tmp_path)
    argv = ["train", cfg, "--run-dir", ""] if flag == "--run-dir" else ["train", "--resume", ""]
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and f"raytrec: {flag} is empty (an unset shell variable?)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_the_root_is_no_run_directory(tmp_path: Path, capsys) -> None:
    """Before: "pass --overwrite to replace it", which raytrec would then refuse."""
    cfg = write_config(tmp_path / "c.yaml")
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", "/")
    assert code == 2 and "--overwrite" not in err
    assert "/ already exists and was not made by raytrec" in err and "choose a new --run-dir" \
        in err


def test_resume_after_the_config_was_edited_names_the_key(tmp_path: Path, capsys,
                                                         interrupt_epoch) -> None:
    run = _interrupted(tmp_path, capsys, interrupt_epoch, epochs=4, at=3)
    saved = (run / "config.yaml").read_text()
    config = yaml.safe_load(saved)
    config["mapper"]["dim"] = 32
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    code, _, err = run_cli(capsys, "train", "--resume", run)
    assert code == 2 and "Traceback" not in err
    assert f"{run}/config.yaml was edited after the run started: mapper.dim is 32 there but " \
           "16 in checkpoint_000001" in err
    assert "put it back" in err
    (run / "config.yaml").write_text(saved)
    code, _, err = run_cli(capsys, "train", "--resume", run)
    assert code == 0, err


def test_resume_takes_a_set_of_where_it_runs_only(tmp_path: Path, capsys,
                                                  interrupt_epoch) -> None:
    """``--resume --set`` may change where a run runs (workers, sharding, threads), and it
    is written into the run's config.yaml; any other key is refused, naming the ones that may
    change, and nothing is written."""
    run = _interrupted(tmp_path, capsys, interrupt_epoch, epochs=3, at=2)
    saved = (run / "config.yaml").read_text()
    code, _, err = run_cli(capsys, "train", "--resume", run, "--set", "loss.margin=0.3")
    assert code == 2 and "Traceback" not in err
    assert "no --set but scaling.num_workers" in " ".join(err.split())
    assert "got --set loss.margin=0.3" in err
    assert (run / "config.yaml").read_text() == saved
    code, _, err = run_cli(capsys, "train", "--resume", run, "--set", "train.threads=1")
    assert code == 0, err
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["threads"] == 1


def _interrupted(tmp_path: Path, capsys, interrupt_epoch, epochs: int, at: int) -> Path:
    """A run of ``epochs`` interrupted (Ctrl-C) in its epoch ``at``: its run directory."""
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": epochs})
    run = tmp_path / "run"
    interrupt_epoch(at)
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 130
    interrupt_epoch(None)
    return run
