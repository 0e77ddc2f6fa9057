"""NaN and infinity: refused in any config value, and a run that diverges stops where it did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from raytrec.losses import LossInput, LossOutput
from raytrec.losses.bpr import BPRLoss
from tests.bad_input.conftest import refused, run_cli
from tests.conftest import write_config


@pytest.mark.parametrize("override", ["loss.margin=.nan", "train.lr=.nan", "train.lr=.inf",
                                      "train.weight_decay=-.inf", "split.ratios=[0.6, .nan, 0.2]",
                                      "data.interactions_per_user=.nan"])
def test_non_finite_config_values_are_refused(tmp_path: Path, capsys, override: str) -> None:
    cfg = write_config(tmp_path / "c.yaml")
    err = refused(capsys, tmp_path, cfg, "--set", override)
    key = override.split("=")[0]
    assert f"{key}: is " in err and "every number in a config must be finite" in err


def test_non_finite_search_bound_is_refused(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "s.yaml")
    cfg.write_text(cfg.read_text() + "search: {loss.margin: {uniform: [0.1, .inf]}}\n")
    err = refused(capsys, tmp_path, cfg, command="tune")
    assert "search.loss.margin: uniform needs [low, high] of finite numbers" in err


class TurnsNaNLoss(BPRLoss):
    """BPR until its 12th batch (in the second epoch here), then NaN."""

    calls = 0

    def compute(self, batch: LossInput) -> LossOutput:
        if len(batch.pos) > 8:  # training batches only, not validation's tiny one
            TurnsNaNLoss.calls += 1
        out = super().compute(batch)
        if TurnsNaNLoss.calls >= 12:
            out.loss = out.loss * torch.tensor(float("nan"))
        return out


def test_a_diverging_run_stops_naming_epoch_step_and_parts(tmp_path: Path, capsys,
                                                          extra_components) -> None:
    TurnsNaNLoss.calls = 0
    extra_components("loss", "turns-nan", TurnsNaNLoss)
    cfg = write_config(tmp_path / "c.yaml", loss={"name": "turns-nan", "l2": 0.01},
                       mapper={"distance": "dot", "max_norm": None}, train={"epochs": 4})
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", run)
    assert code == 2 and "Traceback" not in err
    # 9 steps per epoch: the 12th batch is step 3 of epoch 2.
    assert "training diverged in epoch 2, step 3 of 9: loss nan, bpr" in err
    assert "the last good checkpoint is epoch 1's" in err
    assert f"{run} keeps its checkpoints: --resume {run} continues it" in err
    assert not (run / "metrics.json").exists()
    lines = (run / "progress.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1]
    states = sorted((run / "checkpoints").glob("checkpoint_*/state.pt"))
    assert len(states) == 1 and torch.load(states[0], weights_only=False)["epoch"] == 1


def test_divergence_in_the_first_epoch_leaves_no_run_dir(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", loss={"name": "mse"},
                       mapper={"distance": "dot", "max_norm": None},
                       train={"optimizer": "sgd", "lr": 1000.0})
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 2 and "training diverged in epoch 1, step" in err and "loss inf" in err
    assert "held nothing to resume and was removed" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


@pytest.mark.ray
def test_divergence_on_ray_workers_reaches_the_cli(tmp_path: Path, capsys, ray_cluster) -> None:
    cfg = write_config(tmp_path / "c.yaml", loss={"name": "mse"},
                       mapper={"distance": "dot", "max_norm": None},
                       train={"optimizer": "sgd", "lr": 1000.0},
                       scaling={"num_workers": 2, "cpus_per_worker": 0.5})
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 2 and "Traceback" not in err
    assert err.startswith("raytrec: training diverged in epoch 1, step") and "loss inf" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]
