"""``check_training``: two epochs through raytrec's own loop, and a stopped-and-resumed run
that must end with the very same model."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import yaml

from raytrec.data.base import Dataset, RawData
from raytrec.data.synthetic import SyntheticDataset
from raytrec.kinds import KINDS
from raytrec.testing.common import ConformanceError, build, fail_unless

UNDER_TEST = "under-test"
DATA = "raytrec-testing-data"


class KitData(Dataset):
    """The training check's data: 300 users in 5 taste clusters over 300 items (as many as
    ``tiny_info``), with its feature columns (items ``genres``, ``year``, ``studio``; users ``age``,
    ``occupation``), the item ones tied to the clusters so that features carry signal."""

    def load(self) -> RawData:
        raw = SyntheticDataset(num_users=300, num_items=300, interactions_per_user=15,
                               num_clusters=5, seed=3).load()
        rng = np.random.default_rng(0)
        cluster = raw.item_features["cluster"].to_numpy()
        letters = np.array(["a", "b", "c", "d", "e"])
        items = pd.DataFrame({
            "genres": [[str(letters[c % 5]), str(letters[(c + 1) % 5])] for c in cluster],
            "year": 1990.0 + cluster + rng.normal(0, 0.5, len(cluster)),
            "studio": np.where(cluster % 2 == 0, "x", "y"),
        }, index=raw.item_features.index)
        n_users = len(raw.user_features)
        users = pd.DataFrame({"age": rng.integers(18, 70, n_users).astype(float),
                              "occupation": rng.choice(["p", "q"], n_users)},
                             index=raw.user_features.index)
        return RawData(raw.interactions, users, items, name="raytrec.testing")


class _Stop(Exception):
    """Raised by the session after the first epoch's checkpoint, as a crash would."""


def check_training(cls: type[Any], companions: dict[str, Any] | None = None,
                   **kwargs: Any) -> dict[str, Any]:
    """Train ``cls`` (a task, loss, sampler, mapper, retriever or dataset, built with
    ``kwargs``) for two epochs through raytrec's own loop, in this process, with built-in
    components in the other sections; then train it again, stopped after the first epoch and
    resumed. The resumed run must end with exactly the model of the uninterrupted one: a
    component that draws from a generator other than the one it is given, or keeps state a
    checkpoint does not hold, fails here. Returns the uninterrupted run's ``metrics.json``
    summary.

    ``companions``: config sections to use instead of the built-in ones, whole (a task's
    mapper and data, a mapper's task), e.g. ``{"task": {"name": "session"}}``."""
    from raytrec.plugins import registered

    section, kind = _section(cls)
    component = build(cls, kwargs, section)
    config = _config(section, component, kwargs)
    config.update({k: v for k, v in (companions or {}).items() if k != section})
    components = [(kind, UNDER_TEST, cls)] + ([] if section == "data" else
                                               [("dataset", DATA, KitData)])
    with tempfile.TemporaryDirectory(prefix="raytrec-check-") as tmp, registered(components):
        root = Path(tmp)
        (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        name = cls.__name__
        whole, summary = _uninterrupted(root)
        fail_unless(summary["epochs_run"] == 2, name, "two epochs must run")
        for key, value in summary["train"].items():
            fail_unless(np.isfinite(value), name, f"training reported {key} = {value}")
        resumed = _stopped_and_resumed(root)
        differ = [k for k in whole if not torch.equal(whole[k], resumed[k])]
        # The model kept is the best epoch's, maybe the first: what each epoch measured shows
        # a second epoch that went otherwise.
        history, again = _history(root / "whole"), _history(root / "resumed")
        differ += [f"epoch {epoch}'s {key}" for epoch, measured in history.items()
                   for key, value in measured.items()
                   if again.get(epoch, {}).get(key) != value]
        fail_unless(not differ, name,
                    f"a run stopped after epoch 1 and resumed trains otherwise than an "
                    f"uninterrupted one ({', '.join(differ[:4])} differ): draw only from the "
                    "generator passed in, and keep no state a checkpoint misses")
    return summary


def _section(cls: type[Any]) -> tuple[str, str]:
    for kind in KINDS:
        if isinstance(cls, type) and issubclass(cls, kind.base):
            return kind.section, kind.name
    raise ConformanceError(f"{getattr(cls, '__name__', cls)}: not a subclass of any kind's base "
                           f"class ({', '.join(k.base_path for k in KINDS)})")


def _config(section: str, component: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A small run around the component, with settings it needs from the rest."""
    config: dict[str, Any] = {
        "data": {"name": DATA},
        "mapper": {"name": "embedding", "dim": 8, "distance": "dot", "max_norm": None},
        "sampler": {"name": "uniform", "num_negatives": 4},
        "loss": {"name": "triplet", "margin": 0.5},
        "retriever": {"name": "faiss-flat"},
        "train": {"epochs": 2, "batch_size": 256, "lr": 0.05, "threads": 1, "device": "cpu"},
        "eval": {"ks": [5, 10], "metric": "recall@10", "every": 1},
        "scaling": {"num_workers": 0},
    }
    config[section] = {"name": UNDER_TEST, **kwargs}
    if section == "loss":
        if component.distances:
            config["mapper"]["distance"] = component.distances[0]
        if "item_features" in component.requires:
            config["mapper"] = {"name": "feature-mlp", "dim": 8, "distance": "l2",
                                "item_features": {"multi_hot": ["genres"]}}
        if component.uses_log_q:
            config["mapper"]["distance"] = "cosine"
    if section == "mapper" and component.distance not in ("dot", "cosine", "l2"):
        raise ConformanceError(f"{type(component).__name__}: distance must be dot, cosine or l2")
    return config


def _uninterrupted(root: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    from raytrec.run.job import create_job
    from raytrec.run.launch import run_job

    job = create_job(root / "config.yaml", [], root / "whole", overwrite=False)
    summary = run_job(job)
    return _model(job.run_dir), summary


def _stopped_and_resumed(root: Path) -> dict[str, torch.Tensor]:
    from raytrec.run.job import create_job, load_job
    from raytrec.run.launch import run_job
    from raytrec.train.loop import train_loop
    from raytrec.train.session import LocalSession

    job = create_job(root / "config.yaml", [], root / "resumed", overwrite=False)

    class StopAfterFirstEpoch(LocalSession):
        def report(self, metrics: dict[str, Any], checkpoint_dir: Path | None) -> None:
            super().report(metrics, checkpoint_dir)
            if metrics.get("epoch") == 1 and not metrics.get("finished"):
                raise _Stop

    try:
        train_loop(job.payload(), StopAfterFirstEpoch(job.run_dir, "cpu"))
    except _Stop:
        pass
    else:
        raise ConformanceError("the run to resume did not stop after its first epoch")
    run_job(load_job(job.run_dir))
    return _model(job.run_dir)


def _history(run_dir: Path) -> dict[int, dict[str, float]]:
    """Per epoch, what training and validation measured (not how long they took)."""
    from raytrec.layout import PROGRESS_FILE

    found: dict[int, dict[str, float]] = {}
    for line in (run_dir / PROGRESS_FILE).read_text().splitlines():
        record = json.loads(line)
        if "best_epoch" in record:  # the summary line of a finished run
            continue
        found[int(record["epoch"])] = {
            key: value for key, value in record.items()
            if key.startswith(("train/", "valid/")) and "seconds" not in key
            and "_per_s" not in key}
    return found


def _model(run_dir: Path) -> dict[str, torch.Tensor]:
    from raytrec.layout import MODEL_FILE
    from raytrec.train.checkpoint import load_file

    return load_file(run_dir / MODEL_FILE)["model"]
