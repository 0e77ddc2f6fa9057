"""A component that raises while training: one line naming it, its cause and the log that
keeps the traceback, in this process and from a Ray Train worker alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from raytrec.errors import ComponentError
from raytrec.samplers.base import Negatives
from raytrec.samplers.uniform import UniformSampler
from tests.bad_input.conftest import run_cli
from tests.bad_input.test_data_loss import BoomLoss
from tests.conftest import write_config

PLUGIN = '''
import raytrec
from raytrec.losses import Loss, LossOutput


class BoomLoss(Loss):
    def compute(self, batch):
        if len(batch.pos) > 8:  # validation's tiny batch passes; training's does not
            raise RuntimeError("boom")
        return LossOutput(batch.pos.mean() - batch.neg.mean())


@raytrec.hookimpl
def register_losses(register):
    register("boom", BoomLoss)
'''


def test_a_failing_plugin_is_named_in_one_line(tmp_path: Path, capsys,
                                               extra_components) -> None:
    extra_components("loss", "boom", BoomLoss)
    cfg = write_config(tmp_path / "c.yaml", loss={"name": "boom"})
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", run)
    log = run / "logs" / "error-rank0.log"
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith("raytrec: loss 'boom' (test-plugin 0) failed while training: "
                          "RuntimeError: boom; the full traceback is in ")
    assert "fix or uninstall that plugin" in err
    assert 'raise RuntimeError("boom")' in log.read_text()
    # The failed run is kept for its log: a rerun needs --overwrite, which replaces it.
    assert run_cli(capsys, "train", cfg, "--run-dir", run)[0] == 2


def test_debug_shows_the_traceback(tmp_path: Path, capsys, extra_components,
                                   monkeypatch) -> None:
    monkeypatch.setenv("RAYTREC_DEBUG", "")  # --debug sets it for the workers; undone after
    extra_components("loss", "boom", BoomLoss)
    cfg = write_config(tmp_path / "c.yaml", loss={"name": "boom"})
    with pytest.raises(ComponentError):
        run_cli(capsys, "--debug", "train", cfg, "--run-dir", tmp_path / "run")
    assert 'raise RuntimeError("boom")' in capsys.readouterr().err


def _installed_plugin(where: Path) -> Path:
    """A distribution on a path entry, found by entry points as an installed one is."""
    (where / "boom_plugin.py").write_text(PLUGIN)
    info = where / "boom_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: boom-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[raytrec]\nboom = boom_plugin\n")
    return where


@pytest.mark.ray
def test_a_plugin_failing_in_ray_workers_is_one_line(tmp_path: Path) -> None:
    plug = _installed_plugin(tmp_path)
    cfg = write_config(tmp_path / "c.yaml", loss={"name": "boom"},
                       scaling={"num_workers": 2, "cpus_per_worker": 0.5})
    run = tmp_path / "run"
    env = {**{k: v for k, v in os.environ.items() if k != "RAYTREC_DEBUG"},
           "RAY_AUTH_MODE": "disabled",
           "PYTHONPATH": os.pathsep.join([str(plug), os.getcwd()])}
    done = subprocess.run([sys.executable, "-m", "raytrec.cli.main", "train", str(cfg),
                           "--run-dir", str(run)], env=env, capture_output=True, text=True,
                          timeout=240)
    err = done.stderr
    assert done.returncode == 2 and "Traceback" not in err, err
    assert "raytrec: loss 'boom' (boom-plugin 0.1) failed in Ray Train worker " in err
    assert "RuntimeError: boom" in err
    logs = sorted((run / "logs").glob("error-rank*.log"))
    assert logs and all("boom_plugin.py" in log.read_text() for log in logs)


class AlwaysBoomLoss(BoomLoss):
    def compute(self, batch):
        raise RuntimeError("boom")


def test_a_plugin_broken_everywhere_is_caught_before_the_run_exists(
        tmp_path: Path, capsys, extra_components) -> None:
    extra_components("loss", "always-boom", AlwaysBoomLoss)
    cfg = write_config(tmp_path / "c.yaml", loss={"name": "always-boom"})
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 2 and "loss: 'always-boom' failed on a tiny batch before training: " \
        "RuntimeError: boom" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


class TransposedSampler(UniformSampler):
    def sample(self, users, items, generator):
        neg = super().sample(users, items, generator)
        return Negatives(neg.ids.T.contiguous(), neg.log_q.T.contiguous(), shared=False)


def test_a_sampler_breaking_its_contract_is_caught_before_the_run_exists(
        tmp_path: Path, capsys, extra_components) -> None:
    extra_components("sampler", "transposed", TransposedSampler)
    cfg = write_config(tmp_path / "c.yaml", sampler={"name": "transposed", "num_negatives": 3})
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 2 and "sampler: 'transposed' failed on a tiny batch before training: " \
        "TransposedSampler: per-positive ids must be (B=8, N), got (3, 8)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]
