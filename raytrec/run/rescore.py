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
from raytrec.errors import ConfigError, Problem
from raytrec.evaluation.data import EvalData
from raytrec.evaluation.popularity import popularity_metrics
from raytrec.plugins import get_registry
from raytrec.retrievers.base import SearchStats
from raytrec.run.job import cutoff_problems, load_job, retriever_problems
from raytrec.run.trained import create_mapper, load_trained, model_path
from raytrec.train.build import build_retriever
from raytrec.train.cold_items import cold_item_metrics, known_items
from raytrec.train.validation import evaluate_split

RESCORABLE = ("eval", "retriever")
EXACT = "faiss-flat"  # what an approximate index is compared with


def rescore(run_dir: Path, overrides: list[str],
            retriever_name: str | None = None) -> dict[str, Any]:
    """Valid and test metrics of the run's best model (through ``retriever_name``, else the
    run's retriever), test metrics of popularity, through an approximate index the
    comparison with exact search, and with items held out of training (``split.cold_items``)
    the cold-item groups of ``raytrec train``'s summary."""
    job = load_job(run_dir)
    config = retriever_config(job.config, overrides, retriever_name, f"{run_dir} with --set")
    model_path(run_dir)  # before the data is read
    data_dir = job.data_dir
    info = read_training_info(data_dir)
    mapper = create_mapper(config)
    problems = cutoff_problems(config["eval"]["ks"], info.num_items) + \
        retriever_problems(config, info.num_items, mapper.dim)
    if problems:
        raise ConfigError(problems, f"{run_dir} with --set")
    load_trained(run_dir, mapper, info)
    retriever = build_retriever(config)
    eval_cfg = config["eval"]
    device = torch.device("cpu")
    out: dict[str, Any] = {"ks": list(eval_cfg["ks"]), "retriever": config["retriever"]}
    index: dict[str, Any] = {}
    valid, data = (EvalData.load(str(data_dir), split, info.num_users, info.positives)
                   for split in ("valid", "test"))
    known = known_items(config, info)
    if known is None:
        out["valid"] = evaluate_split(mapper, retriever, valid, eval_cfg, 0, 1, device)
        # One build for both splits; the searches reported are the test users'.
        retriever.stats = SearchStats(build_seconds=retriever.stats.build_seconds)
        out["test"] = evaluate_split(mapper, retriever, data, eval_cfg, 0, 1, device,
                                     build=False)
    else:  # validation ranked the known items only, as in training
        out["valid"] = evaluate_split(mapper, build_retriever(config), valid.among(known),
                                      eval_cfg, 0, 1, device, items=known)
        out["test"] = evaluate_split(mapper, retriever, data, eval_cfg, 0, 1, device)
    index[config["retriever"]["name"]] = retriever.stats.report()
    if known is not None:  # after the report: these groups search indexes of their own
        out.update(cold_item_metrics(mapper, retriever, data, info, config, 0, 1, device))
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
