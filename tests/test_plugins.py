"""The plugin registry: built-ins and third-party plugins through one entry-point path."""

from __future__ import annotations

import importlib.metadata as md
import types
from dataclasses import dataclass

import pytest

import raytrec
from raytrec import plugins
from raytrec.errors import PluginError
from raytrec.losses.bpr import BPRLoss


@dataclass
class FakeDist:
    name: str
    version: str = "1.0"


@dataclass
class FakeEntryPoint:
    name: str
    module: object
    dist: FakeDist
    value: str = "fake_module"

    def load(self):
        if isinstance(self.module, Exception):
            raise self.module
        return self.module


def _plugin(**losses: type) -> types.ModuleType:
    module = types.ModuleType("fake_plugin")

    @raytrec.hookimpl
    def register_losses(register):
        for name, cls in losses.items():
            register(name, cls)

    module.register_losses = register_losses
    return module


@pytest.fixture
def fake_entry_points(monkeypatch):
    def install(*eps: FakeEntryPoint) -> None:
        real = [ep for ep in md.entry_points(group="raytrec") if ep.name == "builtins"]
        monkeypatch.setattr(plugins.md, "entry_points", lambda group: [*real, *eps])

    return install


def test_builtins_and_example_plugin_are_registered() -> None:
    registry = plugins.load_registry()
    assert {"cml", "bpr", "logistic"} <= set(registry.names("loss"))
    assert {"uniform", "popularity"} <= set(registry.names("sampler"))
    assert "faiss-flat" in registry.names("retriever")
    assert {"movielens-100k", "citeulike", "csv", "parquet", "synthetic"} <= set(
        registry.names("dataset"))
    by_name = {e.name: e for e in registry.entries()}
    assert by_name["logistic"].distribution == "raytrec-example"
    assert by_name["cml"].distribution == "raytrec"


def test_unknown_name_suggests_and_lists() -> None:
    with pytest.raises(PluginError) as err:
        plugins.load_registry().get("loss", "cmll")
    msg = str(err.value)
    assert "did you mean 'cml'" in msg and "bpr" in msg


def test_same_name_from_two_distributions_names_both(fake_entry_points) -> None:
    fake_entry_points(FakeEntryPoint("one", _plugin(ranker=BPRLoss), FakeDist("dist-one")),
                      FakeEntryPoint("two", _plugin(ranker=BPRLoss), FakeDist("dist-two")))
    with pytest.raises(PluginError) as err:
        plugins.load_registry()
    assert "dist-one" in str(err.value) and "dist-two" in str(err.value)


def test_shadowing_a_builtin_is_refused(fake_entry_points) -> None:
    fake_entry_points(FakeEntryPoint("evil", _plugin(cml=BPRLoss), FakeDist("evil-dist")))
    with pytest.raises(PluginError, match=r"'raytrec' and 'evil-dist'"):
        plugins.load_registry()


def test_plugin_failing_to_import_is_named(fake_entry_points) -> None:
    fake_entry_points(FakeEntryPoint("broken", ImportError("no module named torchy"),
                                     FakeDist("broken-dist")))
    with pytest.raises(PluginError) as err:
        plugins.load_registry()
    assert "broken-dist" in str(err.value) and "torchy" in str(err.value)
    assert "RAYTREC_DISABLE_PLUGINS=broken" in str(err.value)


def test_plugin_raising_in_its_hook_is_named(fake_entry_points) -> None:
    module = types.ModuleType("raiser")

    @raytrec.hookimpl
    def register_losses(register):
        raise RuntimeError("boom")

    module.register_losses = register_losses
    fake_entry_points(FakeEntryPoint("raiser", module, FakeDist("raiser-dist")))
    with pytest.raises(PluginError, match=r"raiser-dist.*boom"):
        plugins.load_registry()


def _module_with(name: str, function) -> types.ModuleType:
    module = types.ModuleType(name)
    setattr(module, function.__name__, function)
    return module


def test_misnamed_hook_is_refused_naming_the_distribution(fake_entry_points) -> None:
    @raytrec.hookimpl
    def register_loss(register):  # the hook is register_losses
        register("typo", BPRLoss)

    fake_entry_points(FakeEntryPoint("typo", _module_with("typo", register_loss),
                                     FakeDist("typo-dist")))
    with pytest.raises(PluginError, match=r"typo-dist.*register_loss.*register_losses"):
        plugins.load_registry()


def test_hook_without_hookimpl_is_refused(fake_entry_points) -> None:
    def register_losses(register):  # forgot @raytrec.hookimpl
        register("unmarked", BPRLoss)

    fake_entry_points(FakeEntryPoint("unmarked", _module_with("unmarked", register_losses),
                                     FakeDist("unmarked-dist")))
    with pytest.raises(PluginError, match=r"unmarked-dist.*@raytrec.hookimpl"):
        plugins.load_registry()


def test_one_unmarked_hook_beside_marked_ones_is_refused(fake_entry_points) -> None:
    """A plugin whose other hooks register something would otherwise lose this one silently."""
    module = _plugin(marked=BPRLoss)

    def register_samplers(register):  # forgot @raytrec.hookimpl
        raise AssertionError("an unmarked hook is never called")

    module.register_samplers = register_samplers
    fake_entry_points(FakeEntryPoint("half", module, FakeDist("half-dist")))
    with pytest.raises(PluginError, match=r"plugin 'half-dist' .*its register_samplers lacks "
                                          r"@raytrec.hookimpl"):
        plugins.load_registry()


def test_registering_a_non_component_is_refused(fake_entry_points) -> None:
    fake_entry_points(FakeEntryPoint("bad", _plugin(thing=dict), FakeDist("bad-dist")))
    with pytest.raises(PluginError, match="not a subclass"):
        plugins.load_registry()


def test_disable_env_blocks_a_plugin(fake_entry_points, monkeypatch) -> None:
    fake_entry_points(FakeEntryPoint("broken", ImportError("x"), FakeDist("broken-dist")))
    monkeypatch.setenv("RAYTREC_DISABLE_PLUGINS", "broken-dist")
    registry = plugins.load_registry()
    assert "cml" in registry.names("loss")


def test_load_only_env_pins_plugins(monkeypatch) -> None:
    monkeypatch.setenv("RAYTREC_LOAD_PLUGINS", "builtins")
    assert "logistic" not in plugins.load_registry().names("loss")
    monkeypatch.setenv("RAYTREC_LOAD_PLUGINS", "builtins,raytrec-example")
    assert "logistic" in plugins.load_registry().names("loss")


def test_registry_loads_once() -> None:
    plugins.reset_registry()
    assert plugins.get_registry() is plugins.get_registry()


def test_example_plugin_loss_ignores_masked_negatives() -> None:
    """In-batch and mixed samplers mask a row's own positive: it must not count as a negative."""
    import torch
    import torch.nn.functional as F

    from raytrec.losses import LossInput

    loss = plugins.load_registry().get("loss", "logistic")()
    neg = torch.tensor([[0.5, 3.0], [0.2, -1.0]], requires_grad=True)
    mask = torch.tensor([[True, False], [True, True]])
    batch = LossInput(torch.zeros(2), neg, torch.zeros(2, 2), torch.zeros(2, 1),
                      torch.zeros(2, 1), mask=mask)
    out = loss(batch)
    out.loss.backward()
    assert neg.grad[0, 1] == 0  # the masked entry gets no gradient
    sp = F.softplus
    expected = (sp(torch.tensor(0.5)) + (sp(torch.tensor(0.2)) + sp(torch.tensor(-1.0))) / 2) / 2
    assert torch.isclose(out.parts["negative"], expected)
