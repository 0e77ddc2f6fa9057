"""The cluster-launcher files pass Ray's own validation, offline and without credentials."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FILES = ["cluster.yaml", "cluster-local.yaml"]


def _validated(config: dict[str, Any]) -> dict[str, Any]:
    from ray.autoscaler._private.util import prepare_config, validate_config

    prepared = prepare_config(copy.deepcopy(config))
    validate_config(prepared)
    return prepared


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / name).read_text())


@pytest.mark.parametrize("name", FILES)
def test_ray_validates_the_cluster_file(name: str) -> None:
    prepared = _validated(_load(name))
    assert prepared["head_node_type"] in prepared["available_node_types"]


def test_the_gpu_cluster_declares_every_resource() -> None:
    """Integer CPU and GPU for each node type: nothing is detected through the cloud API, and
    the head (no GPU) gets no Ray Train worker."""
    config = _load("cluster.yaml")
    types = config["available_node_types"]
    for name, node in types.items():
        assert set(node["resources"]) == {"CPU", "GPU"}, name
        assert all(isinstance(v, int) for v in node["resources"].values()), name
    assert types[config["head_node_type"]]["resources"]["GPU"] == 0
    workers = [n for name, n in types.items() if name != config["head_node_type"]]
    assert workers and all(n["resources"]["GPU"] >= 1 for n in workers)
    assert all(n["min_workers"] <= n["max_workers"] for n in workers)


@pytest.mark.parametrize("name", FILES)
def test_setup_installs_the_torch_pin_before_raytrec(name: str) -> None:
    commands = _load(name)["setup_commands"]
    torch = next(i for i, c in enumerate(commands) if '"torch==2.13.0"' in c)
    wheels = next(i for i, c in enumerate(commands) if "dist/*.whl" in c)
    assert torch < wheels


def test_ray_refuses_a_broken_cluster_file() -> None:
    """The validation the tests above rely on does catch mistakes."""
    from click.exceptions import ClickException
    from jsonschema.exceptions import ValidationError

    config = _load("cluster.yaml")
    broken = copy.deepcopy(config)
    broken["available_node_types"]["gpu_1x"]["min_workers"] = 9  # above its max_workers
    with pytest.raises((ValueError, ValidationError, ClickException)):
        _validated(broken)
    unknown = copy.deepcopy(config)
    unknown["head_node_typo"] = "head"
    with pytest.raises((ValueError, ValidationError, ClickException)):
        _validated(unknown)


@pytest.mark.parametrize("name", FILES)
def test_every_key_is_explained(name: str) -> None:
    """Each top-level key and each node type's key has a comment on its line or above it
    (keys on consecutive lines share the comment above the first)."""
    lines = (ROOT / name).read_text().splitlines()
    unexplained = []
    for i, line in enumerate(lines):
        indent = _key_indent(line)
        if indent is None or (indent and not _in_node_types(lines, i)):
            continue
        j = i - 1
        while j >= 0 and _key_indent(lines[j]) == indent and "#" not in lines[j]:
            j -= 1  # a group of keys without blank lines between them
        if "#" not in line and not (j >= 0 and lines[j].lstrip().startswith("#")):
            unexplained.append(line)
    assert unexplained == []


def _key_indent(line: str) -> int | None:
    """0 for a top-level key, 4 for a node type's key, None for other lines."""
    match = re.match(r"^( {0}| {4})[a-z_]+:", line)
    return len(match.group(1)) if match else None


def _in_node_types(lines: list[str], i: int) -> bool:
    top = next(p for p in reversed(lines[:i]) if _key_indent(p) == 0)
    return top.startswith("available_node_types:")
