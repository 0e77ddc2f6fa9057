"""Driver side: validate a config, claim a run directory, prepare its data."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from raytrec.config import apply_overrides, read_yaml, validate, with_defaults
from raytrec.data.prepare import prepare
from raytrec.data.splits import SplitConfig
from raytrec.data.store import read_training_info
from raytrec.errors import ConfigError, Problem, RunDirError
from raytrec.plugins import get_registry

CONFIG_FILE = "config.yaml"


@dataclass
class Job:
    config: dict[str, Any]
    run_dir: Path

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "data"

    def payload(self) -> dict[str, Any]:
        """The plain dict every worker receives."""
        return {"config": self.config, "run_dir": str(self.run_dir.resolve()),
                "data_dir": str(self.data_dir.resolve())}


def resolve_config(path: str | Path, overrides: list[str]) -> dict[str, Any]:
    raw = read_yaml(path)
    problems = apply_overrides(raw, overrides)
    if problems:
        raise ConfigError(problems, str(path))
    return validate(with_defaults(raw), get_registry(), source=str(path))


def default_run_dir(config_path: str | Path) -> Path:
    return Path("runs") / f"{Path(config_path).stem}-{time.strftime('%Y%m%d-%H%M%S')}"


def create_job(config_path: str | Path, overrides: list[str], run_dir: Path | None,
               overwrite: bool) -> Job:
    """Validate everything, load the data, and only then create the run directory."""
    config = resolve_config(config_path, overrides)
    run_dir = Path(run_dir) if run_dir else default_run_dir(config_path)

    def fill(staging: Path) -> None:
        check_against_data(config, staging / "data", str(config_path))
        (staging / CONFIG_FILE).write_text(yaml.safe_dump(config, sort_keys=False))

    prepare_run_dir(run_dir, config, overwrite, fill)
    return Job(config, run_dir)


def prepare_run_dir(run_dir: Path, config: dict[str, Any], overwrite: bool,
                    fill: Callable[[Path], None], kind: str = "run") -> None:
    """Prepare ``config``'s data and ``fill`` the rest in a staging directory; only when all
    of it succeeded does it replace ``run_dir``, so a failure leaves nothing half-written."""
    if run_dir.exists() and any(run_dir.iterdir()) and not overwrite:
        raise RunDirError(
            f"{kind} directory {run_dir} already exists; pass --overwrite to replace it, "
            f"--resume {run_dir} to continue it, or choose another --run-dir")
    section = config["data"]
    dataset = get_registry().create("dataset", section["name"],
                                    **{k: v for k, v in section.items() if k != "name"})
    raw = dataset.load()
    staging = run_dir.with_name(run_dir.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        prepare(raw, SplitConfig(**config["split"]), staging / "data")
        fill(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if run_dir.exists():
        shutil.rmtree(run_dir)
    staging.rename(run_dir)


def check_against_data(config: dict[str, Any], data_dir: Path, source: str) -> None:
    """Set the sampler, loss and mapper up on the prepared data, so that what only the data can
    refute (more negatives than items, a feature column it lacks) fails here with a config
    error, not in a worker."""
    info = read_training_info(data_dir)
    problems = []
    for section in ("sampler", "loss", "mapper"):
        args = {k: v for k, v in config[section].items() if k != "name"}
        part = get_registry().create(section, config[section]["name"], **args)
        try:
            part.setup(info)
        except ValueError as exc:
            problems.append(Problem(section, f"{exc} (data: {info.num_users} users, "
                                             f"{info.num_items} items)"))
    if problems:
        raise ConfigError(problems, source)


def load_job(run_dir: Path) -> Job:
    run_dir = Path(run_dir)
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise RunDirError(f"{run_dir} is not a raytrec run directory (no {CONFIG_FILE})")
    if not (run_dir / "data" / "info.json").is_file():
        raise RunDirError(f"{run_dir}/data is incomplete; start a new run with raytrec train")
    config = validate(yaml.safe_load(path.read_text()), get_registry(), source=str(path))
    return Job(config, run_dir)


def read_metrics(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / "metrics.json"
    if not path.is_file():
        raise RunDirError(f"{path} is missing: the run has not finished; use --resume {run_dir}")
    return json.loads(path.read_text())
