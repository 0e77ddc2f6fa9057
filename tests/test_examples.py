"""Every example config is valid as shipped: training configs and search files alike."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from raytrec.run.job import resolve_config
from raytrec.tune.plan import load_plan

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_valid_and_says_how_to_run_it(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    if "search" in yaml.safe_load(path.read_text()):
        assert first == f"# raytrec tune examples/{path.name}"
        plan = load_plan(path, [])
        assert plan.params and plan.settings.num_samples >= 1
    else:
        assert first == f"# raytrec train examples/{path.name}"
        assert resolve_config(path, [])["data"]["name"]


def test_there_are_search_examples() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"tune_cml_ml100k.yaml", "tune_two_tower_ml100k.yaml",
            "tune_loss_choice.yaml"} <= names
