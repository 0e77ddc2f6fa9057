"""Search spaces: parsed, checked before Ray starts, and applied to one trial's config."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from raytrec.cli.main import main
from raytrec.errors import ConfigError
from raytrec.plugins import get_registry
from raytrec.tune.conditional import ConditionalSpace
from raytrec.tune.keys import apply
from raytrec.tune.plan import load_plan
from raytrec.tune.space import Param, flatten, parse
from tests.conftest import write_config


def _search_file(tmp_path: Path, search, tune=None, **sections) -> Path:
    path = write_config(tmp_path / "s.yaml", **sections)
    raw = yaml.safe_load(path.read_text())
    raw["search"] = search
    if tune is not None:
        raw["tune"] = tune
    path.write_text(yaml.safe_dump(raw))
    return path


def _problems(tmp_path: Path, search, tune=None, **sections) -> str:
    with pytest.raises(ConfigError) as info:
        load_plan(_search_file(tmp_path, search, tune, **sections), [])
    return str(info.value)


def test_dotted_and_nested_keys_are_the_same_entry() -> None:
    dotted, _ = flatten({"loss.margin": {"uniform": [0.1, 1.0]}})
    nested, _ = flatten({"loss": {"margin": {"uniform": [0.1, 1.0]}}})
    assert dotted == nested == {"loss.margin": {"uniform": [0.1, 1.0]}}


def test_every_distribution_becomes_a_tune_domain() -> None:
    params, problems = parse({
        "loss.margin": {"uniform": [0.1, 2.0]}, "loss.lambda_c": {"loguniform": [0.01, 100]},
        "sampler.num_negatives": {"randint": [5, 50]}, "train.lr": {"quniform": [0.01, 0.1,
                                                                                 0.01]},
        "mapper.dim": {"quniform": [16, 128, 16]}, "loss.name": {"choice": ["cml", "bpr"]},
        "mapper.hidden": {"choice": [[256], [256, 128]]}})
    assert problems == []
    found = {p.key: p for p in params}
    draws = {k: p.domain().sample(random_state=0) for k, p in found.items()}
    assert 0.1 <= draws["loss.margin"] <= 2.0 and 0.01 <= draws["loss.lambda_c"] <= 100
    assert found["sampler.num_negatives"].integer and 5 <= draws["sampler.num_negatives"] <= 50
    assert found["mapper.dim"].integer and draws["mapper.dim"] % 16 == 0
    assert not found["train.lr"].integer
    # A choice among lists is searched by position and decoded back to the list.
    assert found["mapper.hidden"].indexed and draws["mapper.hidden"] in (0, 1)
    assert found["mapper.hidden"].decode(1) == [256, 128]
    assert found["sampler.num_negatives"].decode(7.0) == 7


def test_randint_includes_its_upper_bound() -> None:
    domain = Param("sampler.num_negatives", "randint", (1, 2)).domain()
    assert {domain.sample(random_state=s) for s in range(40)} == {1, 2}


def test_shape_errors_are_reported_together(tmp_path: Path) -> None:
    message = _problems(tmp_path, {
        "loss.margin": {"uniform": [2.0, 0.1]},
        "loss.lambda_c": {"loguniform": [0, 10]},
        "sampler.num_negatives": {"choice": []},
        "train.lr": {"gaussian": [0, 1]},
        "train.epochs": {"randint": [1.5, 3]},
    })
    assert "5 problems" in message
    assert "search.loss.margin: uniform needs low < high, got [2.0, 0.1]" in message
    assert "search.loss.lambda_c: loguniform needs 0 < low" in message
    assert "search.sampler.num_negatives: choice needs a non-empty list" in message
    assert "search.train.lr: unknown distribution 'gaussian'" in message
    assert "search.train.epochs: randint needs integer bounds" in message


def test_unknown_and_fixed_keys(tmp_path: Path) -> None:
    message = _problems(tmp_path, {
        "loss.margn": {"uniform": [0.1, 1.0]},
        "split.seed": {"choice": [0, 1]},
        "trian.lr": {"uniform": [0.1, 1.0]},
        "loss.name": {"uniform": [0, 1]},
    })
    assert "search.loss.margn" in message and "did you mean 'margin'" in message
    assert "search.split.seed: split cannot be searched" in message
    assert "search.trian.lr: unknown section 'trian' — did you mean 'train'?" in message
    assert "search.loss.name: a plugin name is searched with choice" in message


def test_values_are_checked_at_every_bound(tmp_path: Path) -> None:
    message = _problems(tmp_path, {"loss.margin": {"uniform": [-0.5, 1.0]},
                                   "loss.name": {"choice": ["cml", "bprr"]}})
    assert "search.loss.margin: with loss.margin=-0.5: loss.margin:" in message
    assert "unknown loss 'bprr' — did you mean 'bpr'?" in message


def test_argument_that_no_searched_plugin_has(tmp_path: Path) -> None:
    message = _problems(tmp_path, {"loss.temperature": {"loguniform": [0.01, 1]},
                                   "loss.name": {"choice": ["cml", "bpr"]}})
    assert "search.loss.temperature: no loss searched (cml, bpr) has an argument " \
           "'temperature'" in message


def test_tune_options_are_checked(tmp_path: Path) -> None:
    space = {"loss.margin": {"uniform": [0.1, 1.0]}}
    message = _problems(tmp_path, space, tune={"num_samples": 0})
    assert "tune.num_samples: must be >= 1, got 0" in message
    message = _problems(tmp_path, space, tune={"schedular": "asha", "algorithm": "tpe"})
    assert "tune.schedular" in message and "did you mean 'scheduler'" in message
    assert "tune.algorithm" in message and "'optuna'" in message


def test_metric_must_be_evaluated(tmp_path: Path) -> None:
    message = _problems(tmp_path, {"loss.margin": {"uniform": [0.1, 1.0]}},
                        tune={"metric": "recall@7"})
    assert "tune.metric: must be <name>@<k> with name in recall, ndcg, mrr, hr and k in ks " \
           "[10, 20]" in message


def test_grace_period_beyond_the_epochs(tmp_path: Path) -> None:
    message = _problems(tmp_path, {"loss.margin": {"uniform": [0.1, 1.0]}},
                        tune={"grace_period": 10})
    assert "tune.grace_period: 10 is more than train.epochs (3)" in message


def test_swapping_a_plugin_drops_what_it_does_not_take_with_a_note() -> None:
    raw = {"loss": {"name": "cml", "margin": 0.5, "lambda_c": 2.0}}
    config, notes = apply(raw, {"loss.name": "triplet", "loss.lambda_c": 1.0}, get_registry())
    assert config["loss"] == {"name": "triplet", "margin": 0.5}
    # The searched value is the one the note names (the config's own is replaced anyway).
    assert notes == ["loss.lambda_c=1.0 dropped: loss 'triplet' has no argument 'lambda_c'"]
    _, notes = apply(raw, {"loss.name": "triplet"}, get_registry())
    assert notes == ["loss.lambda_c=2.0 dropped: loss 'triplet' has no argument 'lambda_c'"]
    config, notes = apply(raw, {"loss.name": "cml", "loss.margin": 0.9}, get_registry())
    assert config["loss"] == {"name": "cml", "margin": 0.9, "lambda_c": 2.0} and notes == []


def test_cli_refuses_a_bad_space_before_creating_anything(tmp_path: Path, capsys) -> None:
    path = _search_file(tmp_path, {"loss.margin": {"uniform": [1.0, 1.0]}})
    out = tmp_path / "tune-out"
    code = main(["tune", str(path), "--run-dir", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "search.loss.margin: uniform needs low < high" in err
    assert not out.exists() and not list(tmp_path.glob("tune-out*"))


def test_more_negatives_than_items_is_caught_after_preparing(tmp_path: Path, capsys) -> None:
    path = _search_file(tmp_path, {"sampler.num_negatives": {"choice": [5, 500]}})
    out = tmp_path / "tune-out"
    code = main(["tune", str(path), "--run-dir", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "search.sampler.num_negatives: with sampler.num_negatives=500" in err
    assert not out.exists() and not list(tmp_path.glob("tune-out*"))


def test_the_searched_metric_also_picks_each_trials_best_epoch(tmp_path: Path) -> None:
    plan = load_plan(_search_file(tmp_path, {"loss.margin": {"uniform": [0.1, 1.0]}},
                                  tune={"metric": "ndcg@10", "mode": "max"}), [])
    assert plan.settings.metric == "ndcg@10" and plan.metric_key == "valid/ndcg@10"
    assert plan.base.eval.metric == "ndcg@10"
    config, _ = plan.trial_config({"loss.margin": 0.3})
    assert config.eval.metric == "ndcg@10" and config.loss.kwargs["margin"] == 0.3
    # What --resume reads back is the same search.
    document = tmp_path / "tune.yaml"
    document.write_text(yaml.safe_dump(plan.document()))
    again = load_plan(document, [])
    assert again.params == plan.params and again.settings == plan.settings
    assert again.base == plan.base


def test_conditional_space_draws_an_argument_only_for_plugins_that_take_it() -> None:
    import optuna

    params, _ = parse({"loss.name": {"choice": ["cml", "bpr", "warp"]},
                       "loss.margin": {"uniform": [0.1, 1.5]},
                       "sampler.num_negatives": {"randint": [1, 5]}})
    space = ConditionalSpace.build(params, get_registry())
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    names = set()
    for _ in range(30):
        trial = study.ask()
        space(trial)
        names.add(trial.params["loss.name"])
        assert ("loss.margin" in trial.params) == (trial.params["loss.name"] != "bpr")
        assert 1 <= trial.params["sampler.num_negatives"] <= 5
        study.tell(trial, 0.0)
    assert names == {"cml", "bpr", "warp"}


def test_conditional_space_takes_a_choice_of_one_value() -> None:
    """A fixed value for the trials whose plugin takes it (infonce's temperature when the
    loss is searched) is a choice of one."""
    import optuna

    params, _ = parse({"loss.name": {"choice": ["infonce", "bpr"]},
                       "loss.temperature": {"choice": [1.0]}})
    space = ConditionalSpace.build(params, get_registry())
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(10):
        trial = study.ask()
        space(trial)
        if trial.params["loss.name"] == "infonce":
            assert trial.params["loss.temperature"] == 1.0
        else:
            assert "loss.temperature" not in trial.params
        study.tell(trial, 0.0)


def test_a_value_is_encoded_as_the_draw_that_gives_it_back() -> None:
    cases = [
        (Param("loss.margin", "uniform", (0.1, 1.5)), 0.5, (True, 0.5)),
        (Param("loss.margin", "uniform", (0.1, 1.5)), 2.0, (False, None)),
        (Param("train.lr", "loguniform", (1e-3, 1.0)), 0.05, (True, 0.05)),
        (Param("mapper.dim", "quniform", (32, 128, 32)), 64, (True, 64)),
        (Param("mapper.dim", "quniform", (32, 128, 32)), 100, (False, None)),
        (Param("sampler.num_negatives", "randint", (1, 20)), 20, (True, 20)),
        (Param("sampler.num_negatives", "randint", (1, 20)), 2.5, (False, None)),
        (Param("sampler.num_negatives", "choice", (1, 3, 10)), 3, (True, 3)),
        (Param("loss.rank_weight", "choice", (1, 0)), True, (False, None)),  # True is not 1
        (Param("eval.ks", "choice", ([10, 20], [20, 50])), [20, 50], (True, 1)),
    ]
    for param, value, expected in cases:
        assert param.encode(value) == expected, (param, value)
        if expected[0]:
            assert param.decode(expected[1]) == value


def test_the_default_trial_is_the_config_as_given(tmp_path: Path) -> None:
    from raytrec.tune.default_trial import default_point

    space = {"loss.name": {"choice": ["bpr", "cml"]}, "loss.margin": {"uniform": [0.1, 1.5]},
             "train.lr": {"loguniform": [0.01, 1.0]}}
    plan = load_plan(_search_file(tmp_path, space, loss={"name": "cml", "margin": 0.7}), [])
    assert default_point(plan) == ({"loss.name": "cml", "loss.margin": 0.7, "train.lr": 0.1},
                                   "")
    # bpr takes no margin: the search draws it only for the trials that need one
    plan = load_plan(_search_file(tmp_path, space, loss={"name": "bpr"}), [])
    assert default_point(plan) == ({"loss.name": "bpr", "train.lr": 0.1}, "")
    plan = load_plan(_search_file(tmp_path, space, loss={"name": "cml", "margin": 0.7},
                                  train={"lr": 2.0}), [])
    assert default_point(plan) == (None, "the config's own train.lr=2.0 lies outside "
                                         "search.train.lr")
