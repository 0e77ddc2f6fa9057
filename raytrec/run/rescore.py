"""``raytrec evaluate``: score a finished run's model again, optionally with other settings.

Through an approximate index the test metrics come beside those of exact search
(``faiss-flat``), with the retention (index / exact, per metric) and what each index cost:
build seconds, queries/s, rows searched again wider or exactly (``SearchStats``)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch

from raytrec.config import apply_overrides, validate
from raytrec.data.store import read_training_info
from raytrec.errors import ConfigError, Problem, RunDirError
from raytrec.evaluation.data import EvalData
from raytrec.evaluation.popularity import popularity_metrics
from raytrec.plugins import get_registry
from raytrec.run.job import cutoff_problems, load_job, retriever_problems
from raytrec.run.launch import MODEL_FILE
from raytrec.train.build import build_retriever
from raytrec.train.checkpoint import load_file
from raytrec.train.validation import evaluate_split

RESCORABLE = ("eval", "retriever")
EXACT = "faiss-flat"  # what an approximate index is compared with


def rescore(run_dir: Path, overrides: list[str],
            retriever_name: str | None = None) -> dict[str, Any]:
    """Valid and test metrics of the run's best model (through ``retriever_name``, else the
    run's retriever), test metrics of popularity, and through an approximate index the
    comparison with exact search."""
    job = load_job(run_dir)
    config = retriever_config(job.config, overrides, retriever_name, f"{run_dir} with --set")
    model_path = Path(run_dir) / MODEL_FILE
    if not model_path.is_file():
        raise RunDirError(f"{model_path} is missing: the run has not finished; "
                          f"use raytrec train --resume {run_dir}")
    data_dir = job.data_dir
    info = read_training_info(data_dir)
    registry = get_registry()
    section = config["mapper"]
    mapper = registry.create("mapper", section["name"],
                             **{k: v for k, v in section.items() if k != "name"})
    problems = cutoff_problems(config["eval"]["ks"], info.num_items) + \
        retriever_problems(config, info.num_items, mapper.dim)
    if problems:
        raise ConfigError(problems, f"{run_dir} with --set")
    mapper.setup(info)
    again = f"raytrec train --resume {run_dir} writes it again from the last checkpoint"
    try:
        mapper.load_state_dict(load_file(model_path, "model")["model"])
    except RunDirError as exc:
        raise RunDirError(f"{exc}; {again}") from None
    except (KeyError, TypeError, RuntimeError) as exc:
        raise RunDirError(f"model {model_path} does not hold this run's model "
                          f"({str(exc).splitlines()[0]}); {again}") from None
    retriever = build_retriever(config)
    eval_cfg = config["eval"]
    device = torch.device("cpu")
    out: dict[str, Any] = {"ks": list(eval_cfg["ks"]), "retriever": config["retriever"]}
    index: dict[str, Any] = {}
    for split in ("valid", "test"):
        data = EvalData.load(str(data_dir), split, info.num_users)
        out[split] = evaluate_split(mapper, retriever, data, eval_cfg, 0, 1, device)
    index[config["retriever"]["name"]] = retriever.stats.report()
    if not retriever.exact:
        exact = build_retriever({"retriever": {"name": EXACT}})
        out["test, exact"] = evaluate_split(mapper, exact, data, eval_cfg, 0, 1, device)
        out["retention"] = retention(out["test"], out["test, exact"])
        index[EXACT] = exact.stats.report()
    out["popularity (test)"] = popularity_metrics(data_dir, "test", list(eval_cfg["ks"]),
                                                  eval_cfg["chunk_size"])
    out["index (test)"] = index
    return out


def retriever_config(config: dict[str, Any], overrides: list[str],
                     retriever_name: str | None, source: str) -> dict[str, Any]:
    """A run's config with ``--retriever NAME`` and the ``--set`` overrides of ``eval.*`` and
    ``retriever.*`` applied (anything else is refused: it would need training again)."""
    config = copy.deepcopy(config)
    bad = [o for o in overrides if o.split(".", 1)[0] not in RESCORABLE]
    if bad:
        raise ConfigError([Problem(f"--set {o}", "only eval.* and retriever.* can change after "
                                   "training; train again for anything else") for o in bad])
    if retriever_name is not None:
        overrides = [f"retriever.name={retriever_name}", *overrides]
    if not overrides:
        return config
    if any(o.startswith("retriever.name=") for o in overrides):
        config["retriever"] = {}
    problems = apply_overrides(config, overrides)
    if problems:
        raise ConfigError(problems)
    return validate(config, get_registry(), source=source)


def retention(approximate: dict[str, float], exact: dict[str, float]) -> dict[str, float]:
    """Per metric, what the approximate index kept of exact search's value (1 = all)."""
    return {k: v / exact[k] if exact[k] else 1.0 for k, v in approximate.items()
            if k != "users"}
