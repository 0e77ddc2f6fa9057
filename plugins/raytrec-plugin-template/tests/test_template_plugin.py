"""The template's components pass raytrec's conformance checks and train end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from raytrec_plugin_template import (
    InversePopularitySampler,
    ItemBiasMapper,
    NumpyExactRetriever,
    SquaredHingeLoss,
)

from raytrec.testing import (
    check_loss,
    check_mapper,
    check_retriever,
    check_sampler,
    check_training,
)


def test_loss() -> None:
    check_loss(SquaredHingeLoss, margin=0.3)


def test_sampler() -> None:
    check_sampler(InversePopularitySampler, num_negatives=4)


def test_mapper() -> None:
    check_mapper(ItemBiasMapper, dim=8)


def test_retriever() -> None:
    check_retriever(NumpyExactRetriever, chunk=7)


@pytest.mark.parametrize(("cls", "kwargs"), [
    (SquaredHingeLoss, {"margin": 0.3}), (InversePopularitySampler, {"num_negatives": 4}),
    (ItemBiasMapper, {"dim": 8}), (NumpyExactRetriever, {"chunk": 7})])
def test_trains_and_resumes_exactly(cls: type, kwargs: dict) -> None:
    check_training(cls, **kwargs)  # two epochs through raytrec's loop, then stop and resume


def test_a_run_of_every_template_component(tmp_path: Path) -> None:
    from raytrec.run.job import create_job
    from raytrec.run.launch import run_job

    rng = np.random.default_rng(0)
    with open(tmp_path / "events.jsonl", "w") as fh:
        for user in range(60):
            for item in rng.choice(80, 12, replace=False):
                fh.write(json.dumps({"user": f"u{user}", "item": f"i{item}"}) + "\n")
    config = {
        "data": {"name": "template-jsonl", "path": "events.jsonl"},
        "mapper": {"name": "template-item-bias", "dim": 8},
        "sampler": {"name": "template-inverse-popularity", "num_negatives": 4},
        "loss": {"name": "template-squared-hinge", "margin": 0.5},
        "retriever": {"name": "template-numpy-exact"},
        "train": {"epochs": 2, "batch_size": 128, "lr": 0.1},
        "eval": {"ks": [5, 10], "metric": "recall@10"},
        "scaling": {"num_workers": 0},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    summary = run_job(create_job(tmp_path / "c.yaml", [], tmp_path / "run", overwrite=False))
    assert summary["epochs_run"] == 2 and summary["test"]["users"] > 0
    assert 0 <= summary["test"]["recall@10"] <= 1


def test_the_tutorial_shows_the_real_files() -> None:
    """Every code block of README.md headed by a file name is that file, to the letter."""
    root = Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text()
    blocks = text.split("```python\n# ")[1:]
    assert blocks, "the tutorial shows the plugin's files"
    for block in blocks:
        name, _, body = block.partition("\n")
        body = body.split("\n```\n", 1)[0] + "\n"  # the fence that closes the block
        assert body == (root / name).read_text(), f"README.md's {name} differs from the file"


@pytest.mark.parametrize("name", ["template-squared-hinge", "template-inverse-popularity",
                                  "template-item-bias", "template-numpy-exact",
                                  "template-jsonl"])
def test_registered(name: str) -> None:
    from raytrec.plugins import load_registry

    entries = {e.name: e for e in load_registry().entries()}
    assert entries[name].distribution == "raytrec-plugin-template"
