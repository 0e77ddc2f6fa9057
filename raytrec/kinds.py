"""The plugin kinds, once: what the registry, config validation and the search space read.

A kind is the config section that names a component, the hook (``raytrec/hookspecs.py``) that
registers it, and the base class every component of the kind subclasses.
"""

from __future__ import annotations

import copy
import importlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Kind:
    name: str  # "loss": as errors and ``raytrec plugins`` say it
    section: str  # "loss": the config section naming one, ``{name: ..., <arguments>}``
    hook: str  # "register_losses"
    base_path: str  # "raytrec.losses:Loss", imported on first use (keeps this module light)

    @property
    def base(self) -> type[Any]:
        module, _, name = self.base_path.partition(":")
        return getattr(importlib.import_module(module), name)


KINDS: tuple[Kind, ...] = (
    Kind("task", "task", "register_tasks", "raytrec.tasks:Task"),
    Kind("sampler", "sampler", "register_samplers", "raytrec.samplers:Sampler"),
    Kind("mapper", "mapper", "register_mappers", "raytrec.mappers:ItemModel"),
    Kind("loss", "loss", "register_losses", "raytrec.losses:Loss"),
    Kind("retriever", "retriever", "register_retrievers", "raytrec.retrievers:Retriever"),
    Kind("dataset", "data", "register_datasets", "raytrec.data:Dataset"),
)
BY_NAME = {k.name: k for k in KINDS}
BY_SECTION = {k.section: k for k in KINDS}
HOOKS = tuple(k.hook for k in KINDS)


@dataclass(frozen=True)
class ComponentSpec:
    """A plugin component as a config names it: its registered ``name`` and every constructor
    argument (the component's defaults made explicit). ``Registry.build(kind, spec)`` makes
    one."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, section: dict[str, Any]) -> ComponentSpec:
        """A section as ``to_dict`` writes it (in a run's config, an export's manifest)."""
        return cls(section["name"], {k: v for k, v in section.items() if k != "name"})

    def to_dict(self) -> dict[str, Any]:
        """The config section: ``{name: ..., <arguments>}``."""
        return {"name": self.name, **copy.deepcopy(self.kwargs)}

    def replace(self, **kwargs: Any) -> ComponentSpec:
        """The same component with some arguments changed."""
        return ComponentSpec(self.name, {**self.kwargs, **kwargs})
