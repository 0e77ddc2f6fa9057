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
        assert resolve_config(path, []).data.name


def test_there_are_search_examples() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"tune_cml_ml100k.yaml", "tune_two_tower_ml100k.yaml",
            "tune_loss_choice.yaml"} <= names


def test_the_generic_search_starts_from_raytrecs_defaults() -> None:
    """Its first trial is the untuned default, so the end of a search compares against it."""
    from raytrec.config import validate, with_defaults
    from raytrec.plugins import get_registry
    from raytrec.tune.default_trial import default_point

    plan = load_plan(EXAMPLES[0].parent / "tune_any.yaml", [])
    defaults = validate(with_defaults({}), get_registry())
    for section in ("mapper", "sampler", "loss", "train", "eval"):
        assert getattr(plan.base, section) == getattr(defaults, section), section
    point, why = default_point(plan)
    assert point is not None, why
    assert plan.settings.time_budget_s and plan.settings.include_default
