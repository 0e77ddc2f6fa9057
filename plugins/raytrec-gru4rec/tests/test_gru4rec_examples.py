"""The plugin's example configs are valid as shipped and say how to run them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from raytrec.run.job import resolve_config
from raytrec.tune.plan import load_plan

HERE = Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(HERE.glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_valid_and_says_how_to_run_it(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    where = f"plugins/raytrec-gru4rec/examples/{path.name}"
    if "search" in yaml.safe_load(path.read_text()):
        assert first == f"# raytrec tune {where}"
        plan = load_plan(path, [])
        assert {"loss.name", "sampler.num_negatives", "sampler.alpha", "loss.bpreg",
                "mapper.hidden", "train.lr"} <= {p.key for p in plan.params}
    else:
        assert first == f"# raytrec train {where}"
        config = resolve_config(path, [])
        assert config.task.name == "session" and config.mapper.name == "gru4rec"


def test_there_is_a_training_example_per_data_set_and_a_search() -> None:
    assert {p.name for p in EXAMPLES} == {"gru4rec_yoochoose.yaml",
                                          "gru4rec_ml100k_sessions.yaml",
                                          "tune_gru4rec_yoochoose.yaml"}
