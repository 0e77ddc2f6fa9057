"""Config validation: every problem at once, each keyed, with a did-you-mean."""

from __future__ import annotations

import pytest

from raytrec.config import apply_overrides, validate, with_defaults
from raytrec.config.run_config import ComponentSpec
from raytrec.errors import ConfigError
from raytrec.plugins import get_registry


def _problems(config: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as err:
        validate(with_defaults(config), get_registry(), "test.yaml")
    return {p.key: p.message for p in err.value.problems}


def test_defaults_are_valid_and_fully_resolved() -> None:
    resolved = validate(with_defaults({}), get_registry()).to_dict()
    assert resolved["loss"] == {"name": "cml", "margin": 1.9, "lambda_c": 10.0,
                                "rank_weight": True, "lambda_f": 0.0, "negative": "hardest"}
    assert resolved["sampler"]["num_negatives"] == 3
    assert (resolved["train"]["epochs"], resolved["train"]["patience"]) == (500, 20)
    assert resolved["split"]["ratios"] == [0.6, 0.2, 0.2]
    assert resolved["train"]["optimizer"] == "adagrad"


def test_a_run_config_from_before_tasks_resolves_to_the_user_item_task() -> None:
    """A run directory's config.yaml is fully resolved; one written before ``task`` was a
    section has none, and must still load (evaluate, export, resume)."""
    old = validate(with_defaults({}), get_registry()).to_dict()
    del old["task"]
    assert validate(old, get_registry()).task == ComponentSpec("user-item")


def test_a_mapper_of_another_task_is_refused_by_name() -> None:
    from raytrec.mappers import ItemModel
    from raytrec.plugins import registered

    class ItemsOnly(ItemModel):
        distance, dim = "dot", 4

        def setup(self, info):
            self.num_items = info.num_items

        def items(self, ids):
            raise NotImplementedError

    with registered([("mapper", "items-only", ItemsOnly)]):
        problems = _problems({"mapper": {"name": "items-only"}})
    assert "is not a raytrec.mappers.base.Mapper, which task 'UserItemTask'" in \
        problems["mapper.name"]


def test_all_problems_reported_together() -> None:
    problems = _problems({"loss": {"name": "cmll"},
                          "sampler": {"name": "uniform", "num_negative": 5},
                          "train": {"epochs": "ten"}, "trian": {}})
    assert "did you mean 'cml'" in problems["loss.name"]
    assert "did you mean 'num_negatives'" in problems["sampler.num_negative"]
    assert "expected int" in problems["train.epochs"]
    assert "did you mean 'train'" in problems["trian"]


def test_misspelled_loss_argument() -> None:
    problems = _problems({"loss": {"name": "cml", "margn": 0.3}})
    assert problems == {"loss.margn": problems["loss.margn"]}
    assert "CMLLoss has no argument 'margn' — did you mean 'margin'?" in problems["loss.margn"]


def test_value_checks_are_keyed_by_argument() -> None:
    problems = _problems({"loss": {"name": "cml", "margin": -1.0}})
    assert problems["loss.margin"].startswith("must be >= 0")


def test_wrong_type_names_the_expected_type() -> None:
    problems = _problems({"mapper": {"name": "embedding", "dim": 1.5}})
    assert "expected int" in problems["mapper.dim"]


def test_the_old_name_of_mapper_distance_still_works() -> None:
    """Configs (and finished runs' saved configs) from before the rename keep working."""
    resolved = validate(with_defaults({"loss": {"name": "bpr"},
                                       "mapper": {"name": "embedding", "metric": "cosine"}}),
                        get_registry()).to_dict()
    assert resolved["mapper"]["distance"] == "cosine" and "metric" not in resolved["mapper"]
    problems = _problems({"mapper": {"name": "embedding", "metric": "dot", "distance": "l2"}})
    assert "old name of 'distance'" in problems["mapper.metric"]


def test_loss_distance_mismatch() -> None:
    problems = _problems({"mapper": {"name": "embedding", "distance": "dot"}})
    assert "mapper.distance" in problems and "l2" in problems["mapper.distance"]


def test_eval_metric_must_use_a_listed_k() -> None:
    problems = _problems({"eval": {"ks": [10], "metric": "recall@50"}})
    assert "eval.metric" in problems


def test_changing_plugin_drops_default_arguments() -> None:
    resolved = validate(with_defaults({"loss": {"name": "bpr"},
                                       "mapper": {"name": "embedding", "distance": "dot"}}),
                        get_registry())
    assert resolved.loss == ComponentSpec("bpr", {"l2": 0.0})


def test_overrides() -> None:
    config: dict = {"loss": {"name": "cml"}}
    assert apply_overrides(config, ["loss.margin=0.3", "train.epochs=2", "eval.ks=[5, 10]"]) == []
    assert config["loss"]["margin"] == 0.3 and config["train"]["epochs"] == 2
    assert config["eval"]["ks"] == [5, 10]
    assert apply_overrides(config, ["nonsense"])[0].key == "--set nonsense"


def test_feature_loss_needs_a_feature_mapper() -> None:
    problems = _problems({"loss": {"name": "cml", "lambda_f": 1.0}})
    assert "feature-mlp" in problems["mapper.name"]
    resolved = validate(with_defaults({
        "loss": {"name": "cml", "lambda_f": 1.0},
        "mapper": {"name": "feature-mlp", "item_features": {"multi_hot": ["genres"]}}}),
        get_registry())
    assert resolved.mapper.kwargs["hidden"] == 256


def test_logq_correction_with_a_sampler_that_picks_by_score_is_refused() -> None:
    config = with_defaults({"mapper": {"name": "embedding", "distance": "cosine"},
                            "loss": {"name": "infonce", "logq_correction": True},
                            "sampler": {"name": "hard", "num_candidates": 8}})
    with pytest.raises(ConfigError, match=r"loss.logq_correction: sampler 'HardSampler' picks"):
        validate(config, get_registry())


def test_an_assert_in_a_plugin_constructor_is_a_config_problem() -> None:
    from raytrec.config.bind import bind

    class Strict:
        def __init__(self, margin: float = 1.0) -> None:
            assert margin < 2, "margin too large"

    obj, problems = bind("loss", Strict, {"margin": 5.0})
    assert obj is None and [str(p) for p in problems] == [
        "loss: Strict: margin too large (raise raytrec.errors.ArgumentError('<argument>', "
        "'must be ...') to name the key)"]


def test_a_torch_component_without_super_init_is_a_config_problem() -> None:
    from raytrec.config.bind import bind
    from raytrec.losses import Loss

    class NoSuper(Loss):
        def __init__(self, weight: float = 1.0) -> None:  # forgot super().__init__()
            self.weight = weight

        def compute(self, batch):
            raise NotImplementedError

    obj, problems = bind("loss", NoSuper, {})
    assert obj is None and [str(p) for p in problems] == [
        "loss: NoSuper.__init__ must call super().__init__() first (it is a torch module)"]


def test_a_loss_declaring_distances_under_the_old_name_is_still_checked() -> None:
    from raytrec.losses import Loss

    class OldStyle(Loss):
        metrics = ("l2",)

        def compute(self, batch):
            raise NotImplementedError

    assert OldStyle.distances == ("l2",)


def test_a_mapper_without_a_distance_is_named() -> None:
    from raytrec import plugins
    from raytrec.mappers.embedding import EmbeddingMapper

    class OldMapper(EmbeddingMapper):
        def __init__(self, dim: int = 8) -> None:
            super().__init__(dim=dim)
            del self.distance
            self.metric = "dot"  # the attribute's old name

    with plugins.registered([("mapper", "old", OldMapper)], "test-plugin"):
        problems = _problems({"mapper": {"name": "old"}, "loss": {"name": "bpr"}})
    assert problems["mapper"] == ("OldMapper must set self.distance to one of dot, cosine, l2 "
                                  "in __init__ (its old name was metric)")
