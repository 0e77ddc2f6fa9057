"""Every registered component, built-in or plugin, passes raytrec.testing's checks of its kind:
the same checks a plugin author runs in their own suite."""

from __future__ import annotations

import inspect

import pytest

from raytrec.mappers import Mapper
from raytrec.plugins import load_registry
from raytrec.testing import (
    check_loss,
    check_mapper,
    check_retriever,
    check_sampler,
    check_training,
)

REGISTRY = load_registry()
# Arguments a component cannot do without, or that exercise more of it.
ARGS = {
    ("mapper", "feature-mlp"): {"item_features": {"multi_hot": ["genres"], "numeric": ["year"],
                                                  "categorical": ["studio"]}},
    ("mapper", "two-tower"): {"user_features": {"numeric": ["age"],
                                                "categorical": ["occupation"]},
                              "item_features": {"multi_hot": ["genres"]},
                              "user_id_dropout": 0.2},
    ("sampler", "hard"): {"num_candidates": 8, "num_negatives": 2},
    ("sampler", "uniform"): {"num_negatives": 4, "exclude_positives": True},
}
CHECKS = {"loss": check_loss, "sampler": check_sampler, "mapper": check_mapper,
          "retriever": check_retriever}


def _user_item(kind: str, name: str) -> bool:
    """Whether the component serves the user-item task these checks run it in: a mapper of
    another task (a session model) is checked by its plugin's suite, in its task
    (``check_training(..., companions=...)``)."""
    return kind != "mapper" or issubclass(REGISTRY.get(kind, name), Mapper)


COMPONENTS = [(k, n) for k in CHECKS for n in REGISTRY.names(k) if _user_item(k, n)]


@pytest.mark.parametrize(("kind", "name"), COMPONENTS)
def test_component(kind: str, name: str) -> None:
    CHECKS[kind](REGISTRY.get(kind, name), **ARGS.get((kind, name), {}))


@pytest.mark.parametrize("name", REGISTRY.names("dataset"))
def test_dataset_constructor_does_no_io(name: str, tmp_path) -> None:
    cls = REGISTRY.get("dataset", name)
    params = inspect.signature(cls.__init__).parameters
    needed = [n for n, p in params.items() if n != "self" and p.default is p.empty]
    if "path" in params:
        needed.append("path")
    kwargs = {n: str(tmp_path / "nowhere") for n in needed}
    cls(**kwargs)  # must not touch the missing path until load()


@pytest.mark.parametrize(("kind", "name"), COMPONENTS)
def test_component_trains_and_resumes_exactly(kind: str, name: str) -> None:
    summary = check_training(REGISTRY.get(kind, name), **ARGS.get((kind, name), {}))
    assert summary["epochs_run"] == 2
