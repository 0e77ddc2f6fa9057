"""The validated config is one typed object: it pickles to the workers as it is, and its YAML
form reads back to an equal one."""

from __future__ import annotations

import pickle

import yaml

from raytrec.config import validate, with_defaults
from raytrec.config.run_config import ComponentSpec, RunConfig
from raytrec.config.sections import EvalSection, TrainSection
from raytrec.losses import Loss
from raytrec.plugins import get_registry

RAW = {"loss": {"name": "bpr"}, "mapper": {"name": "embedding", "dim": 8, "distance": "dot"},
       "eval": {"ks": [20, 5], "metric": "ndcg@5"}, "split": {"ratios": [0.7, 0.1, 0.2]}}


def _config() -> RunConfig:
    return validate(with_defaults(RAW), get_registry())


def test_validation_returns_typed_sections_with_every_argument_explicit() -> None:
    config = _config()
    assert isinstance(config.train, TrainSection) and isinstance(config.eval, EvalSection)
    assert config.eval.ks == [5, 20]  # sorted by the section
    assert config.loss == ComponentSpec("bpr", {"l2": 0.0})
    assert {"dim", "distance", "max_norm"} <= set(config.mapper.kwargs)
    assert config.spec("data") is config.data


def test_the_yaml_form_reads_back_to_an_equal_config() -> None:
    config = _config()
    text = config.to_yaml()
    assert list(yaml.safe_load(text)) == ["task", "data", "mapper", "sampler", "loss",
                                          "retriever", "split", "prepare", "train", "eval",
                                          "scaling", "tracking"]
    assert yaml.safe_load(text)["split"]["ratios"] == [0.7, 0.1, 0.2]  # plain lists in YAML
    again = validate(yaml.safe_load(text), get_registry())
    assert again == config and again.to_yaml() == text


def test_it_pickles_as_it_is() -> None:
    config = _config()
    assert pickle.loads(pickle.dumps(config)) == config


def test_replacing_a_section_leaves_the_original_alone() -> None:
    config = _config()
    changed = config.replace(loss=config.loss.replace(l2=0.5))
    assert changed.loss.kwargs == {"l2": 0.5} and config.loss.kwargs == {"l2": 0.0}
    assert changed.to_dict()["loss"] == {"name": "bpr", "l2": 0.5}


def test_the_registry_builds_a_component_from_its_spec() -> None:
    loss = get_registry().build("loss", ComponentSpec("bpr", {"l2": 0.25}))
    assert isinstance(loss, Loss) and loss.l2 == 0.25
    assert ComponentSpec.from_dict({"name": "bpr", "l2": 0.25}) == ComponentSpec("bpr",
                                                                                {"l2": 0.25})
