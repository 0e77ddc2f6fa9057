"""A validated run configuration, typed: what ``raytrec.config.validate`` returns, what the
driver, the workers, Tune trials and the readers of a run directory all receive.

Its YAML form (``to_dict``) is the resolved config, every argument explicit, that a run keeps
as ``config.yaml`` and a search as ``best.yaml``; reading that file back through ``validate``
gives an equal ``RunConfig``.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

import yaml

from raytrec.config.sections import (
    EvalSection,
    PrepareSection,
    ScalingSection,
    SplitConfig,
    TrackingSection,
    TrainSection,
)
from raytrec.kinds import ComponentSpec

__all__ = ["ComponentSpec", "RunConfig"]


@dataclass(frozen=True)
class RunConfig:
    """One run: the component of each plugin kind (sections named as in YAML; the dataset's
    is ``data``) and the plain sections. Pickles to Ray workers as it is."""

    task: ComponentSpec
    data: ComponentSpec
    mapper: ComponentSpec
    sampler: ComponentSpec
    loss: ComponentSpec
    retriever: ComponentSpec
    split: SplitConfig
    prepare: PrepareSection
    train: TrainSection
    eval: EvalSection
    scaling: ScalingSection
    tracking: TrackingSection = dataclasses.field(default_factory=TrackingSection)

    def spec(self, section: str) -> ComponentSpec:
        """The component a plugin section names (``"mapper"``, ``"data"``, ...)."""
        value = getattr(self, section)
        if not isinstance(value, ComponentSpec):
            raise KeyError(f"{section} is not a plugin section")
        return value

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with whole sections replaced."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as plain data, in section order (what ``config.yaml`` holds)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, ComponentSpec):
                out[f.name] = value.to_dict()
            else:
                out[f.name] = {k.name: _plain(getattr(value, k.name))
                               for k in dataclasses.fields(value)}
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


PLACEMENT_KEYS = ("scaling.num_workers", "scaling.cpus_per_worker", "scaling.use_gpu",
                  "train.sharding", "train.threads")
"""What a resumed run may change: where it runs, not what it trains (``--resume --set``);
and where it is tracked (``tracking.*``)."""


def is_placement(key: str) -> bool:
    return key in PLACEMENT_KEYS or key.startswith("tracking.")


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return copy.deepcopy(value)
