"""``raytrec evaluate``: score a finished run's model again, optionally with other settings.

Through an approximate index the test metrics come beside those of exact search
(``faiss-flat``), with the retention (index / exact, per metric) and what each index cost:
build seconds, queries/s, rows searched again wider or exactly (``SearchStats``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from raytrec.config import apply_overrides, validate
from raytrec.config.run_config import ComponentSpec, RunConfig
from raytrec.errors import ConfigError, Problem
from raytrec.layout import MODEL_FILE
from raytrec.plugins import get_registry
from raytrec.run.job import cutoff_problems, load_job
from raytrec.run.trained import load_trained, model_path
from raytrec.tasks.user_item.check import retriever_problems

RESCORABLE = ("eval", "retriever")
EXACT = "faiss-flat"  # what an approximate index is compared with


def rescore(run_dir: Path, overrides: list[str],
            retriever_name: str | None = None) -> dict[str, Any]:
    """Valid and test metrics of the run's best model (through ``retriever_name``, else the
    run's retriever), with the task's test groups and baselines, and through an approximate
    index the comparison with exact search."""
    job = load_job(run_dir)
    config = retriever_config(job.config, overrides, retriever_name, f"{run_dir} with --set")
    model = model_path(run_dir)  # before the data is read
    data_dir = job.data_dir
    registry = get_registry()
    task = registry.build("task", config.task)
    info = task.training_info(data_dir)
    mapper = registry.build("mapper", config.mapper)
    problems = cutoff_problems(config.eval.ks, info.num_items)
    if task.uses_retriever:
        problems += retriever_problems(config, info.num_items, mapper.dim)
    if problems:
        raise ConfigError(problems, f"{run_dir} with --set")
    load_trained(run_dir, mapper, info)
    retriever = registry.build("retriever", config.retriever)
    device = torch.device("cpu")
    out: dict[str, Any] = {"ks": list(config.eval.ks)}
    if model.name != MODEL_FILE:
        out["note"] = (f"the run has not finished: scored with its best model so far, from "
                       f"{model.parent}")
    if task.uses_retriever:
        out["retriever"] = config.retriever.to_dict()
    evaluation = task.evaluation(data_dir, info, config)
    out["valid"] = evaluation.validate(mapper, registry.build("retriever", config.retriever),
                                       0, 1, device)
    out.update(evaluation.test(mapper, retriever, 0, 1, device))
    if task.uses_retriever:
        index: dict[str, Any] = {config.retriever.name: retriever.stats.report()}
        if not retriever.exact:
            exact = registry.build("retriever", ComponentSpec(EXACT))
            out["test, exact"] = evaluation.test(mapper, exact, 0, 1, device)["test"]
            out["retention"] = retention(out["test"], out["test, exact"])
            index[EXACT] = exact.stats.report()
    baselines = task.baselines(data_dir, config, "test", quick=True)
    out.update({f"{name} (test)": found for name, found in baselines.metrics.items()})
    if task.uses_retriever:
        out["index (test)"] = index
    return out


def retriever_config(config: RunConfig, overrides: list[str],
                     retriever_name: str | None, source: str) -> RunConfig:
    """A run's config with ``--retriever NAME`` and the ``--set`` overrides of ``eval.*``,
    ``retriever.*`` and the task's ``Task.rescorable`` options applied (anything else is
    refused: it would need training again)."""
    task_keys = [f"task.{key}" for key in get_registry().build("task", config.task).rescorable]
    bad = [o for o in overrides if o.split(".", 1)[0] not in RESCORABLE
           and o.split("=", 1)[0].strip() not in task_keys]
    if bad:
        allowed = ", ".join(["eval.*", "retriever.*", *task_keys])
        raise ConfigError([Problem(f"--set {o}", f"only {allowed} can change after training; "
                                   "train again for anything else") for o in bad])
    if retriever_name is not None:
        overrides = [f"retriever.name={retriever_name}", *overrides]
    if not overrides:
        return config
    raw = config.to_dict()
    if any(o.startswith("retriever.name=") for o in overrides):
        raw["retriever"] = {}
    problems = apply_overrides(raw, overrides)
    if problems:
        raise ConfigError(problems)
    return validate(raw, get_registry(), source=source)


def retention(approximate: dict[str, float], exact: dict[str, float]) -> dict[str, float]:
    """Per metric, what the approximate index kept of exact search's value (1 = all)."""
    return {k: v / exact[k] if exact[k] else 1.0 for k, v in approximate.items()
            if k != "users"}
