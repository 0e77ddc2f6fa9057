"""The template's task and dataset pass raytrec's checks, and `raytrec train` runs the task."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml
from raytrec_plugin_template import JsonLinesDataset, NextItemTask

from raytrec.cli.main import main
from raytrec.testing import check_dataset, check_task, check_training


def test_task() -> None:
    check_task(NextItemTask)  # data, batches on 1 and 2 ranks, loss, scoring, outputs


def test_task_with_the_template_components() -> None:
    check_task(NextItemTask, {"mapper": {"name": "template-item-bias", "dim": 8},
                              "sampler": {"name": "template-inverse-popularity"},
                              "loss": {"name": "template-squared-hinge"}}, min_history=4)


def test_task_trains_and_resumes_exactly() -> None:
    check_training(NextItemTask)


def events(path: Path) -> Path:
    """60 users, each walking up the catalogue from a random start: item i, then i + 1."""
    rng = np.random.default_rng(0)
    with open(path, "w") as fh:
        for user in range(60):
            start = int(rng.integers(0, 40))
            for step in range(12):
                fh.write(json.dumps({"user": f"u{user}", "item": f"i{start + step:02d}",
                                     "timestamp": step}) + "\n")
    return path


def test_dataset(tmp_path: Path) -> None:
    check_dataset(JsonLinesDataset, path=str(events(tmp_path / "events.jsonl")))
    check_dataset(JsonLinesDataset, task=NextItemTask(),
                  path=str(tmp_path / "events.jsonl"))


def test_raytrec_train_learns_the_next_item(tmp_path: Path, capsys) -> None:
    events(tmp_path / "events.jsonl")
    config = {
        "task": {"name": "template-next-item"},
        "data": {"name": "template-jsonl", "path": "events.jsonl"},
        "mapper": {"name": "embedding", "dim": 16},
        "sampler": {"name": "uniform", "num_negatives": 8},
        "loss": {"name": "bpr"},
        "train": {"epochs": 20, "batch_size": 64, "lr": 0.2, "threads": 1},
        "eval": {"ks": [1, 5], "metric": "recall@5"},
        "scaling": {"num_workers": 0},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    code = main(["train", str(tmp_path / "c.yaml"), "--run-dir", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert code == 0 and "previous items" in out
    summary = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert summary["test"]["users"] == 60
    assert summary["test"]["recall@5"] > 0.5  # a random ranking of 51 items: 5 / 51
    assert (tmp_path / "run" / "item_vectors.npy").is_file()


def test_registered() -> None:
    from raytrec.plugins import load_registry

    entries = {e.name: e for e in load_registry().entries()}
    assert entries["template-next-item"].distribution == "raytrec-plugin-template"
