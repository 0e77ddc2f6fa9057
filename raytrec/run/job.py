"""Driver side: validate a config, claim a run directory, prepare its data."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from raytrec.config import read_config, read_yaml, validate, with_defaults
from raytrec.config.run_config import RunConfig
from raytrec.data.cluster import report
from raytrec.data.cluster.read import check_dataset
from raytrec.data.cluster.read import parts as file_parts
from raytrec.data.engine import chosen_engine
from raytrec.errors import ConfigError, DataError, Problem, RunDirError, argument_problem
from raytrec.layout import CONFIG_FILE
from raytrec.memory import (
    available_memory,
    gigabytes,
    id_table_bytes,
    needs_rows,
    parameter_bytes,
    training_bytes,
)
from raytrec.plugins import get_registry
from raytrec.run.mirror import check_new, create
from raytrec.run.ray_setup import ensure_ray
from raytrec.run.run_dir import check_target, stage
from raytrec.run.store import RunStore
from raytrec.run.uri import is_uri, location, uri_of


@dataclass
class Job:
    config: RunConfig
    run_dir: Path

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "data"

    def payload(self) -> dict[str, Any]:
        """The plain dict every worker receives; ``run_uri`` names the run's place when
        ``run_dir`` is the driver's mirror of a run at a URI (``raytrec.run.mirror``)."""
        return {"config": self.config, "run_dir": str(self.run_dir.resolve()),
                "data_dir": str(self.data_dir.resolve()), "run_uri": uri_of(self.run_dir)}


def resolve_config(path: str | Path, overrides: list[str]) -> RunConfig:
    raw = read_config(path, overrides)
    return validate(with_defaults(raw), get_registry(), source=str(path))


def default_run_dir(config_path: str | Path) -> Path:
    return Path("runs") / f"{Path(config_path).stem}-{time.strftime('%Y%m%d-%H%M%S')}"


def create_job(config_path: str | Path, overrides: list[str], run_dir: str | Path | None,
               overwrite: bool) -> Job:
    """Validate everything, load the data, and only then create the run directory (at a path,
    or at a URI through its local mirror)."""
    config = resolve_config(config_path, overrides)

    def fill(staging: Path) -> None:
        check_against_data(config, staging / "data", str(config_path))
        (staging / CONFIG_FILE).write_text(config.to_yaml())

    made = prepare_run_dir(run_dir or default_run_dir(config_path), config, overwrite, fill)
    return Job(config, made)


def prepare_run_dir(run_dir: str | Path, config: RunConfig, overwrite: bool,
                    fill: Callable[[Path], None], kind: str = "run") -> Path:
    """Prepare ``config``'s data and ``fill`` the rest in a staging directory; only when all
    of it succeeded does it take ``run_dir``'s place, so a failure leaves nothing half-written
    (``raytrec.run.run_dir`` says what may be replaced). Returns the directory to work in:
    ``run_dir``, or the mirror of a run at a URI."""
    if is_uri(run_dir):
        check_new(str(run_dir), overwrite, kind)
    else:
        check_target(Path(run_dir), overwrite, kind)
    registry = get_registry()
    dataset = registry.build("dataset", config.data)
    task = registry.build("task", config.task)
    if cluster_files(config, dataset, task):

        def prepared(out_dir: Path) -> None:
            report.stage("connecting to Ray")
            ensure_ray()
            task.prepare_on_cluster(dataset, config.split, out_dir)
    else:
        report.stage(f"reading the {config.data.name} dataset")
        raw = dataset.load()

        def prepared(out_dir: Path) -> None:
            report.stage(f"mapping ids, merging repeated pairs, splitting "
                         f"({config.split.method}) and writing")
            task.prepare(raw, config.split, out_dir)

    def build(staging: Path) -> None:
        prepared(staging / "data")
        fill(staging)

    if is_uri(run_dir):
        return create(str(run_dir), kind, overwrite, build)
    stage(Path(run_dir), kind, build, overwrite)
    return Path(run_dir)


def cluster_files(config: RunConfig, dataset: Any, task: Any) -> bool:
    """Whether ``config``'s data (``dataset``, prepared by ``task``, both built from it) is
    prepared on the cluster (``prepare.engine``: ``ray``, or ``auto`` choosing it); if so, its
    files are checked as the driver can check them before Ray starts (they exist, their
    headers and columns, rows at all)."""
    engine = config.prepare.engine
    if engine == "auto":
        engine = chosen_engine(dataset, task.on_cluster)
    if engine != "ray":
        return False
    if not task.on_cluster:
        raise DataError(f"task {config.task.name} prepares its data on the driver only; "
                        "set prepare.engine: pandas")
    file_parts(check_dataset(dataset))
    return True


def check_against_data(config: RunConfig, data_dir: Path, source: str) -> None:
    """Set the sampler, loss and mapper up on the prepared data, so that what only the data can
    refute (more negatives than items, a feature column it lacks, tables larger than memory)
    fails here with a config error, not in a worker. The mapper is set up on torch's ``meta``
    device: its tables are sized, never allocated. Then the task checks the rest
    (``Task.check``; the user-item task runs every component once on a tiny batch,
    ``raytrec.tasks.user_item.check``)."""
    registry = get_registry()
    task = registry.build("task", config.task)
    info = _checking_info(task, data_dir)
    problems = []
    sizes = f"(data: {info.num_users} {info.queries}, {info.num_items} items)"
    parts = {}
    for section in ("sampler", "loss", "mapper"):
        part = parts[section] = registry.build(section, config.spec(section))
        try:
            if section == "mapper":
                with torch.device("meta"):
                    part.setup(info)
            else:
                part.setup(info)
        except ValueError as exc:
            problems.append(argument_problem(section, exc, f" {sizes}"))
        else:
            if section == "mapper":
                problems += _memory_problems(part, config)
    problems += cutoff_problems(config.eval.ks, info.num_items)
    if not problems:
        problems = task.check(config, info, parts)
    if problems:
        raise ConfigError([*problems, *_ids_written_differently(data_dir)], source)
    if task.uses_retriever:
        _note(data_dir, few_candidates(data_dir, info.num_items, max(config.eval.ks),
                                       info.training_rows()))


def _checking_info(task: Any, data_dir: Path) -> Any:
    """What the checks set the components up from: the driver reads the data as the first
    of as many workers as hold ``store.PART_PAIRS`` training pairs each
    (``Task.worker_info``), so that what it holds stays bounded however large the data."""
    from raytrec.data.store import parts_of

    sizes = json.loads((data_dir / "info.json").read_text()).get("num_interactions", {})
    return task.worker_info(data_dir, 0, parts_of(sizes.get("train", 0)))


def few_candidates(data_dir: Path, num_items: int, k: int,
                   seen: np.ndarray | None = None) -> str | None:
    """A note when test users have no more than K items left to rank once their training
    items are excluded: recall and hit rate at K are then 1.0 for them, whatever the model.
    ``seen``: the training rows of each user, when known; the files are read a row group at
    a time either way."""
    from raytrec.data.store import rows_per_user

    test_users = np.flatnonzero(rows_per_user(data_dir, "test"))
    if not len(test_users):
        return None
    if seen is None:
        seen = rows_per_user(data_dir, "train")
    seen = np.r_[seen, np.zeros(max(0, int(test_users.max()) + 1 - len(seen)), dtype=np.int64)]
    few = int((num_items - seen[test_users] <= k).sum())
    if not few:
        return None
    return (f"{few} of {len(test_users)} test users have at most K={k} items left to rank once "
            f"their training items are excluded, so recall and hit rate @{k} are 1.0 for "
            "them whatever the model; lower "
            "the largest of eval.ks, or give data with more items per user")


def _ids_written_differently(data_dir: Path) -> list[Problem]:
    """Why a feature table may lack rows: its ids are the same numbers written another way."""
    info = json.loads((data_dir / "info.json").read_text())
    return [Problem(f"data.{kind}_features", f"{found['written_differently']} {kind} ids have a "
                    "row only under the same number written another way (1 and 1.0, or 01): "
                    "ids were read as numbers in one file and as text in the other; write the "
                    "ids alike in both files")
            for kind, found in info.get("features", {}).items()
            if found.get("written_differently")]


def _note(data_dir: Path, note: str | None) -> None:
    """Keep a note about the prepared data in its info.json (``raytrec train`` prints it)."""
    if note is None:
        return
    path = data_dir / "info.json"
    info = json.loads(path.read_text())
    info["notes"] = [*info.get("notes", []), note]
    path.write_text(json.dumps(info, indent=2))


def cutoff_problems(ks: list[int], num_items: int) -> list[Problem]:
    """A cut-off K must leave items out of the top K, or every metric at K is trivially 1."""
    too_large = [k for k in ks if k >= num_items]
    if not too_large:
        return []
    if num_items < 2:  # no K is left: the data, not the cut-off, is what to change
        return [Problem("eval.ks", f"the training data holds {num_items} item(s), so there "
                                   "is nothing to rank; give data with more items (check "
                                   "the data section's filters and item column)")]
    return [Problem("eval.ks", f"K={too_large[0]} is not smaller than the catalogue "
                               f"({num_items} items): every item would be in the top K; use "
                               f"K < {num_items}")]


def _memory_problems(mapper: Any, config: RunConfig) -> list[Problem]:
    """The model of every worker of a run on this machine must fit its free memory; when it
    does not, and sharding the ID tables by rows would make it fit, say so."""
    free = available_memory()
    if free is None or os.environ.get("RAY_ADDRESS"):
        return []  # a cluster's workers are not on this machine
    workers = max(1, config.scaling.num_workers)
    train = config.train
    sharded = workers > 1 and (train.sharding == "rows" or (
        train.sharding == "auto" and train.sparse is not False
        and needs_rows(mapper, train.optimizer, workers, free)))
    each = training_bytes(mapper, train.optimizer, workers if sharded else 1)
    if each * workers <= free:
        return []
    key = "mapper.dim" if "dim" in config.mapper.kwargs else "mapper"
    held = (f"{workers} workers, each about {gigabytes(each)}" if workers > 1 else
            f"about {gigabytes(each)}")
    if sharded:
        held += f" with its 1/{workers} of the ID tables"
    fix = f"lower {key}"
    rows = training_bytes(mapper, train.optimizer, workers)
    if not sharded and workers > 1 and id_table_bytes(mapper) and rows * workers <= free:
        then = f"each worker then holds 1/{workers} of the ID tables: about {gigabytes(rows)}"
        fix = (f"set train.sparse: auto, so that train.sharding: auto shards the ID tables "
               f"by rows ({then}), or {fix}" if train.sharding == "auto" else
               f"set train.sharding: rows ({then}), or {fix}")
    return [Problem(key, f"the model needs {held} (weights {gigabytes(parameter_bytes(mapper))}"
                         f", their gradients and {train.optimizer} state), but this machine "
                         f"has {gigabytes(free)} free; {fix}")]


def relocate(job: Job, overrides: list[str]) -> Job:
    """``job`` to resume elsewhere: its ``config.yaml`` rewritten with ``overrides`` of where
    it runs (``config.run_config.PLACEMENT_KEYS``: the workers, the sharding of the ID
    tables), which the checkpoints read back on any number of workers."""
    path = job.run_dir / CONFIG_FILE
    config = validate(read_config(path, overrides), get_registry(), source=str(path))
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(config.to_yaml())
    tmp.replace(path)
    RunStore.open(job.run_dir).publish(CONFIG_FILE)
    return Job(config, job.run_dir)


def load_job(run_dir: Path) -> Job:
    """The run in ``run_dir``: a path, or the mirror of a run at a URI
    (``raytrec.run.mirror.readable``)."""
    run_dir = Path(run_dir)
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise RunDirError(f"{location(run_dir)} is not a raytrec run directory (no "
                          f"{CONFIG_FILE})")
    if not (run_dir / "data" / "info.json").is_file():
        raise RunDirError(f"{location(run_dir)}/data is incomplete; start a new run with "
                          "raytrec train")
    config = validate(read_yaml(path, "run config"), get_registry(), source=str(path))
    return Job(config, run_dir)
