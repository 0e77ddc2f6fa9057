"""Validate a whole config against the registry before anything starts; report all problems."""

from __future__ import annotations

from typing import Any

from raytrec.config.bind import bind, defaults, with_current_names
from raytrec.config.defaults import DEFAULTS, PLUGIN_SECTIONS
from raytrec.config.run_config import ComponentSpec, RunConfig
from raytrec.config.sections import (
    EvalSection,
    PrepareSection,
    ScalingSection,
    SplitConfig,
    TrackingSection,
    TrainSection,
)
from raytrec.distance import DISTANCES
from raytrec.errors import ConfigError, Problem, did_you_mean, unknown_name
from raytrec.plugins import Registry

PLAIN_SECTIONS: dict[str, type[Any]] = {
    "split": SplitConfig,
    "prepare": PrepareSection,
    "train": TrainSection,
    "eval": EvalSection,
    "scaling": ScalingSection,
    "tracking": TrackingSection,
}


def validate(config: dict[str, Any], registry: Registry, source: str = "config") -> RunConfig:
    """The resolved config (every argument explicit), or ConfigError listing every problem."""
    if "task" not in config:  # a run made before tasks were a kind: the task it trained
        config = {"task": DEFAULTS["task"], **config}
    problems: list[Problem] = []
    resolved: dict[str, Any] = {}  # each section as a ComponentSpec or a typed section
    built: dict[str, Any] = {}
    for section in config:
        if section not in DEFAULTS:
            problems.append(Problem(
                section, f"unknown section{did_you_mean(section, DEFAULTS)} "
                f"(sections: {', '.join(DEFAULTS)})"))
    for section, kind in PLUGIN_SECTIONS.items():
        resolved[section], built[section] = _plugin(section, kind, config.get(section), registry,
                                                    problems)
    for section, cls in PLAIN_SECTIONS.items():
        resolved[section], built[section] = _plain(section, cls, config.get(section), problems)
    problems += _cross_checks(built)
    if built["tracking"] is not None:
        problems += _tracking_problems(built["tracking"])
    if problems:
        raise ConfigError(problems, source)
    return RunConfig(**resolved)


# The package each tracking backend writes with, and the extra that installs it.
TRACKING_EXTRAS = {"mlflow": ("mlflow", "raytrec[mlflow]"),
                   "tensorboard": ("tensorboardX", "raytrec[tensorboard]")}


def _tracking_problems(section: TrackingSection) -> list[Problem]:
    """A backend whose package is not installed, naming the extra to install."""
    if section.backend not in TRACKING_EXTRAS:
        return []
    module, extra = TRACKING_EXTRAS[section.backend]
    try:
        __import__(module)
    except ImportError:
        return [Problem("tracking.backend", f"{section.backend} needs the {module} package, "
                        f"which is not installed: pip install '{extra}'")]
    return []


def _plugin(section: str, kind: str, value: Any, registry: Registry,
            problems: list[Problem]) -> tuple[ComponentSpec | None, Any]:
    if not isinstance(value, dict):
        problems.append(Problem(section, f"expected a mapping with 'name', got {value!r}"))
        return None, None
    name = value.get("name")
    if not isinstance(name, str):
        problems.append(Problem(f"{section}.name", f"missing; available: "
                                f"{', '.join(registry.names(kind))}"))
        return None, None
    if not registry.has(kind, name):
        problems.append(Problem(f"{section}.name", unknown_name(kind, name, registry.names(kind))))
        return None, None
    cls = registry.get(kind, name)
    kwargs, renaming = with_current_names(section, cls, ComponentSpec.from_dict(value).kwargs)
    obj, found = bind(section, cls, kwargs)
    problems += renaming + found
    if kind == "mapper" and obj is not None and getattr(obj, "distance", None) not in DISTANCES:
        problems.append(Problem(section, f"{cls.__name__} must set self.distance to one of "
                                f"{', '.join(DISTANCES)} in __init__ (its old name was metric)"))
        obj = None
    return ComponentSpec(name, {**defaults(cls), **kwargs}), obj


def _plain(section: str, cls: type[Any], value: Any, problems: list[Problem]) -> tuple[Any, Any]:
    value = {} if value is None else value
    if not isinstance(value, dict):
        problems.append(Problem(section, f"expected a mapping, got {value!r}"))
        return None, None
    obj, found = bind(section, cls, value)
    problems += found
    return obj, obj


def _cross_checks(built: dict[str, Any]) -> list[Problem]:
    problems = []
    loss, mapper, task = built.get("loss"), built.get("mapper"), built.get("task")
    if task is not None and mapper is not None and not isinstance(mapper, task.mapper_base):
        base = task.mapper_base
        problems.append(Problem(
            "mapper.name", f"'{type(mapper).__name__}' is not a {base.__module__}."
            f"{base.__name__}, which task '{type(task).__name__}' trains; name a mapper "
            "written for that task"))
        mapper = None
    allowed = getattr(loss, "distances", None)
    if loss is not None and mapper is not None and allowed and mapper.distance not in allowed:
        problems.append(Problem(
            "mapper.distance",
            f"loss '{type(loss).__name__}' works on {', '.join(allowed)} scores, the mapper "
            f"uses '{mapper.distance}'; set mapper.distance: {allowed[0]}"))
    needed = set(getattr(loss, "requires", ())) - set(getattr(mapper, "provides", ()))
    if loss is not None and mapper is not None and needed:
        problems.append(Problem(
            "mapper.name", f"the loss needs {', '.join(sorted(needed))} from the mapper, which "
            f"'{type(mapper).__name__}' does not provide; use a feature mapper (feature-mlp) or "
            "set the loss's feature weight to 0"))
    sampler = built.get("sampler")
    if loss is not None and sampler is not None and loss.uses_log_q and not sampler.log_q_known:
        problems.append(Problem(
            "loss.logq_correction", f"sampler '{type(sampler).__name__}' picks negatives by "
            "score, so no probability of drawing them is known to correct for; set "
            "loss.logq_correction: false or use another sampler"))
    scaling = built.get("scaling")
    train = built.get("train")
    if train is not None and mapper is not None and train.sparse is True and not mapper.id_tables:
        problems.append(Problem(
            "train.sparse", f"is true, but mapper '{type(mapper).__name__}' has no ID tables "
            "(Mapper.id_tables is empty), so nothing can be row-sparse; set train.sparse: auto "
            "or false"))
    if train is not None and mapper is not None and train.sharding == "rows":
        if not mapper.id_tables:
            problems.append(Problem(
                "train.sharding", f"is rows, but mapper '{type(mapper).__name__}' has no ID "
                "tables (Mapper.id_tables is empty), so there is nothing to shard; set "
                "train.sharding: replicated"))
        elif train.sparse is False:
            problems.append(Problem(
                "train.sparse", "is false, but train.sharding: rows updates each worker's rows "
                "of the ID tables row-sparse; set train.sparse: auto, or train.sharding: "
                "replicated"))
    if scaling is not None and train is not None:
        problems += _device_problems(scaling, train)
    return problems


def _device_problems(scaling: ScalingSection, train: TrainSection) -> list[Problem]:
    if scaling.use_gpu and train.device == "cpu":
        return [Problem("train.device", "is 'cpu' while scaling.use_gpu is true")]
    if train.device != "cuda":
        return []
    if scaling.num_workers > 0 and not scaling.use_gpu:
        return [Problem("train.device", "is 'cuda' while scaling.use_gpu is false, so Ray gives "
                                        "the workers no GPU; set scaling.use_gpu: true")]
    import torch

    if scaling.num_workers == 0 and not torch.cuda.is_available():
        return [Problem("train.device", "is 'cuda', but this machine has no CUDA device "
                                        "(scaling.num_workers: 0 trains here); use device: "
                                        "auto or cpu")]
    return []
