"""``check_task``: a task's data, batches, loss, scoring and outputs, each against its rule in
``raytrec.tasks.Task``, on a small run's config and data."""

from __future__ import annotations

import copy
import json
import math
import tempfile
from collections.abc import Sized
from pathlib import Path
from typing import Any

import numpy as np
import torch

from raytrec.config.run_config import RunConfig
from raytrec.data.base import DataInfo
from raytrec.losses import LossOutput
from raytrec.tasks import Baselines, Evaluation, Task
from raytrec.testing.common import ConformanceError, build, fail_unless
from raytrec.testing.training import DATA, UNDER_TEST, KitData

CPU = torch.device("cpu")


def check_task(cls: type[Task], companions: dict[str, Any] | None = None, count: str = "users",
               **kwargs: Any) -> None:
    """Check a task class built with ``kwargs`` (its ``task`` section's arguments) on a small
    run: built-in components and ``raytrec.testing``'s data in the other sections, or the
    ``companions`` sections instead, whole (the task's own mapper and data, e.g.
    ``{"mapper": {"name": "gru4rec"}, "data": {"name": "synthetic-sessions"}}``).

    ``prepare`` twice gives the same ``training_info``; ``batches`` take the same number of
    steps on every rank (1 and 2 workers) and yield that many ``Sized`` batches; an epoch's
    first batch has the same loss whatever ran before it (carried state starts afresh);
    ``batch_loss`` is a finite scalar whose gradient reaches the mapper; ``Evaluation``'s
    metrics on ranks 0 and 1 of 2, each built from its rank's ``worker_info``, combine to
    those of one rank (``count``: the metric that counts what was scored, e.g. ``events`` for
    sessions); ``write_outputs`` writes every file
    ``outputs`` names; ``baselines`` and ``check`` return their types. ``check_training``
    checks the rest: the loop trains it and resumes it exactly."""
    from raytrec.plugins import get_registry, registered

    task = build(cls, kwargs, "task")
    name = cls.__name__
    with tempfile.TemporaryDirectory(prefix="raytrec-check-") as tmp, \
            registered([("task", UNDER_TEST, cls), ("dataset", DATA, KitData)]):
        root = Path(tmp)
        config = _run_config(kwargs, companions or {}, name)
        registry = get_registry()
        raw = registry.build("dataset", config.data).load()
        info = _prepared(task, raw, config, root, name)
        parts = _parts(task, config, info, name)
        data_dir = root / "data"
        _check_batches(task, config, info, data_dir, parts, name)
        _check_loss(task, config, info, data_dir, parts, name)
        retriever = registry.build("retriever", config.retriever)
        _check_evaluation(task, data_dir, info, parts["mapper"], retriever, config, count,
                          name)
        _check_outputs(task, data_dir, parts["mapper"], root / "outputs", name)
        found = task.baselines(data_dir, config, "valid", quick=True)
        fail_unless(isinstance(found, Baselines), name,
                    f"baselines must return raytrec.tasks.Baselines, got {type(found).__name__}")
        problems = task.check(config, info, parts)
        fail_unless(isinstance(problems, list), name, "check must return a list of Problems")


def _run_config(kwargs: dict[str, Any], companions: dict[str, Any], name: str) -> RunConfig:
    from raytrec.config import validate, with_defaults
    from raytrec.errors import ConfigError
    from raytrec.plugins import get_registry

    config: dict[str, Any] = {
        "task": {"name": UNDER_TEST, **kwargs},
        "data": {"name": DATA},
        "mapper": {"name": "embedding", "dim": 8, "distance": "dot", "max_norm": None},
        "sampler": {"name": "uniform", "num_negatives": 4},
        "loss": {"name": "bpr"},
        "retriever": {"name": "faiss-flat"},
        "train": {"epochs": 1, "batch_size": 256, "lr": 0.05, "threads": 1, "device": "cpu",
                  "seed": 0},
        "eval": {"ks": [5, 10], "metric": "recall@10", "every": 1},
        "scaling": {"num_workers": 0},
    }
    config.update({k: copy.deepcopy(v) for k, v in companions.items() if k != "task"})
    try:
        return validate(with_defaults(config), get_registry(), source="check_task")
    except ConfigError as exc:
        raise ConformanceError(f"{name}: the check's config is refused ({exc}); give the "
                               "task's own sections as companions") from exc


def _prepared(task: Task, raw: Any, config: RunConfig, root: Path, name: str) -> DataInfo:
    """``prepare`` into a fresh directory, twice: both must read back the same statistics."""
    infos = []
    for folder in ("data", "again"):
        task.prepare(raw, config.split, root / folder)
        fail_unless((root / folder).is_dir() and any((root / folder).iterdir()), name,
                    "prepare must write the prepared data into out_dir")
        infos.append(task.training_info(root / folder))
    _check_info_json(root / "data", name)
    info, again = infos
    fail_unless(isinstance(info, DataInfo), name,
                f"training_info must return raytrec.data.DataInfo, got {type(info).__name__}")
    fail_unless(info.num_items > 0 and info.num_users > 0 and info.num_train > 0, name,
                f"training_info must count items, queries and training rows, got "
                f"{info.num_items} items, {info.num_users} {info.queries}, {info.num_train} rows")
    counts = np.asarray(info.item_counts)
    fail_unless(counts.shape == (info.num_items,) and counts.dtype.kind in "iu"
                and bool((counts >= 0).all()) and counts.sum() > 0, name,
                f"item_counts must be ({info.num_items},) non-negative integers, not all 0")
    same = (info.num_users, info.num_items, info.num_train) == \
        (again.num_users, again.num_items, again.num_train) and \
        np.array_equal(counts, again.item_counts)
    fail_unless(same, name, "prepare must be a function of the data and the config: a second "
                "prepare of the same data reads back other training statistics")
    return info


def _check_info_json(data_dir: Path, name: str) -> None:
    """``info.json``: what ``raytrec train`` prints of the prepared data."""
    try:
        info = json.loads((data_dir / "info.json").read_text())
    except (OSError, ValueError) as exc:
        raise ConformanceError(f"{name}: prepare must write info.json, a JSON object ({exc})"
                               ) from exc
    splits = info.get("num_interactions") if isinstance(info, dict) else None
    fail_unless(isinstance(splits, dict) and all(isinstance(n, int) for n in splits.values())
                and all(isinstance(info.get(k), int) for k in ("num_users", "num_items")),
                name, "info.json must hold num_users, num_items and num_interactions "
                "({split: rows}), the counts raytrec train prints")


def _parts(task: Task, config: RunConfig, info: DataInfo, name: str) -> dict[str, Any]:
    from raytrec.plugins import get_registry

    registry = get_registry()
    torch.manual_seed(config.train.seed)
    parts = {section: registry.build(section, config.spec(section))
             for section in ("mapper", "sampler", "loss")}
    for part in parts.values():
        part.setup(info)
    parts["sampler"].attach(parts["mapper"])
    fail_unless(isinstance(parts["mapper"], task.mapper_base), name,
                f"the check's mapper {type(parts['mapper']).__name__} is not a "
                f"{task.mapper_base.__name__} (mapper_base): give the task's mapper as a "
                "companion")
    return parts


def _check_batches(task: Task, config: RunConfig, info: DataInfo, data_dir: Path,
                   parts: dict[str, Any], name: str) -> None:
    for world in (1, 2):
        steps = []
        for rank in range(world):
            batches = task.batches(data_dir, info, config, rank, world, CPU, parts["loss"])
            fail_unless(isinstance(batches.steps, int) and batches.steps >= 1, name,
                        f"batches.steps must be a positive int, got {batches.steps!r}")
            drawn = list(batches.epoch(torch.Generator().manual_seed(0)))
            fail_unless(len(drawn) == batches.steps, name,
                        f"epoch yielded {len(drawn)} batches, but steps is {batches.steps} "
                        f"(rank {rank} of {world})")
            fail_unless(all(isinstance(b, Sized) and len(b) > 0 for b in drawn), name,
                        "every batch must be Sized, its len the positives it trains on (> 0)")
            steps.append(batches.steps)
        fail_unless(len(set(steps)) == 1, name,
                    f"batches must take the same number of steps on every rank (DDP steps "
                    f"together), got {steps} on ranks 0..{world - 1}: follow the global data")


def _check_loss(task: Task, config: RunConfig, info: DataInfo, data_dir: Path,
                parts: dict[str, Any], name: str) -> None:
    mapper, sampler, loss = parts["mapper"], parts["sampler"], parts["loss"]
    batches = task.batches(data_dir, info, config, 0, 1, CPU, loss)
    mapper.train()

    def first_loss(run_on: bool) -> torch.Tensor:
        """The loss of an epoch's first batch, after a whole epoch of batches or not."""
        if run_on:
            for batch in batches.epoch(torch.Generator().manual_seed(1)):
                task.batch_loss(mapper, mapper, sampler, loss, batch, torch.Generator())
        torch.manual_seed(2)
        first = next(iter(batches.epoch(torch.Generator().manual_seed(0))))
        out = task.batch_loss(mapper, mapper, sampler, loss, first,
                              torch.Generator().manual_seed(3))
        fail_unless(isinstance(out, LossOutput), name,
                    f"batch_loss must return raytrec.losses.LossOutput, got {type(out).__name__}")
        return out.loss

    fresh = first_loss(False)
    fail_unless(fresh.dim() == 0 and bool(torch.isfinite(fresh)), name,
                f"batch_loss must be a finite scalar, got {fresh}")
    mapper.zero_grad()
    fail_unless(fresh.requires_grad, name, "batch_loss must keep the gradient: call model "
                "for every use of weights that need one")
    fresh.backward()
    fresh = fresh.detach()
    grads = [p.grad for p in mapper.parameters() if p.grad is not None]
    fail_unless(bool(grads) and any(bool(g.abs().sum() > 0) for g in grads), name,
                "batch_loss's gradient must reach the mapper's parameters")
    fail_unless(all(bool(torch.isfinite(g).all()) for g in grads), name,
                "batch_loss's gradient must be finite")
    again = first_loss(True).detach()
    fail_unless(math.isclose(float(fresh), float(again), rel_tol=1e-5, abs_tol=1e-6), name,
                f"an epoch's first batch has loss {float(fresh):.6g} in a fresh task but "
                f"{float(again):.6g} after an epoch ran: state carried from batch to batch "
                "must start afresh in every epoch's first batch (a resumed run must match)")


def _check_evaluation(task: Task, data_dir: Path, info: DataInfo, mapper: Any, retriever: Any,
                      config: RunConfig, count: str, name: str) -> None:
    """Each rank's ``Evaluation`` built as the loop builds it, from that rank's
    ``worker_info``."""
    evaluations = {(0, 1): task.evaluation(data_dir, info, config)}
    for rank in range(2):
        evaluations[rank, 2] = task.evaluation(data_dir, task.worker_info(data_dir, rank, 2),
                                               config)
    for evaluation in evaluations.values():
        fail_unless(isinstance(evaluation, Evaluation), name, "evaluation must return a "
                    f"raytrec.tasks.Evaluation, got {type(evaluation).__name__}")
    for what in ("validate", "test"):
        def score(rank: int, world: int, what: str = what) -> dict[str, float]:
            found = getattr(evaluations[rank, world], what)(mapper, retriever, rank, world,
                                                            CPU)
            if what == "test":
                fail_unless(isinstance(found, dict) and next(iter(found), None) == "test",
                            name, "test must return metrics by group, \"test\" first")
                found = found["test"]
            fail_unless(isinstance(found, dict) and count in found, name,
                        f"{what} must return metrics with the count {count!r} of what it "
                        f"scored (check_task(..., count=...) names another), got "
                        f"{sorted(found) if isinstance(found, dict) else found}")
            return found

        whole, shares = score(0, 1), [score(0, 2), score(1, 2)]
        if what == "validate":
            fail_unless(config.eval.metric in whole, name,
                        f"validate must return eval.metric ({config.eval.metric})")
        fail_unless(all(math.isfinite(v) for v in whole.values()), name,
                    f"{what} returned values that are not finite: {whole}")
        _check_shares(whole, shares, count, f"{name}: {what}")


def _check_shares(whole: dict[str, float], shares: list[dict[str, float]], count: str,
                  name: str) -> None:
    """Ranks 0 and 1 of 2 each score their share: counts add up, and the means weighted by
    them give one rank's."""
    counted = sum(s[count] for s in shares)
    fail_unless(math.isclose(counted, whole[count]), name,
                f"ranks 0 and 1 of 2 scored {counted:g} {count}, one rank {whole[count]:g}: "
                "each rank must score its own share, every one scored once")
    for key, value in whole.items():
        combined = sum(s[key] * s[count] for s in shares) / max(counted, 1)
        fail_unless(key == count or math.isclose(combined, value, rel_tol=1e-6, abs_tol=1e-9),
                    name, f"{key}: ranks 0 and 1 of 2 combine to {combined:.6g}, one rank "
                    f"gives {value:.6g}: sum over ranks, never average per-rank means, and "
                    "score the queries whose data the rank's worker_info holds")


def _check_outputs(task: Task, data_dir: Path, mapper: Any, directory: Path, name: str) -> None:
    directory.mkdir()
    task.write_outputs(directory, data_dir, mapper, CPU)
    missing = [f for f in task.outputs if not (directory / f).is_file()]
    fail_unless(not missing, name, f"write_outputs must write every file outputs names; "
                f"missing {', '.join(missing)}")
