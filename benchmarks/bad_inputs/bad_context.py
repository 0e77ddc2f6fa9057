"""What a case sees: its Plan and Ctx, the Case itself, and helpers writing configs and data."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from bad_runner import Result, Signals, message, run_command

BASE: dict[str, Any] = {
    "data": {"name": "synthetic", "num_users": 300, "num_items": 200,
             "interactions_per_user": 25, "num_clusters": 5, "seed": 1},
    "mapper": {"name": "embedding", "dim": 16, "distance": "l2", "max_norm": 1.0},
    "sampler": {"name": "uniform", "num_negatives": 10},
    "train": {"epochs": 2, "batch_size": 512, "lr": 0.1},
    "eval": {"ks": [10, 20], "metric": "recall@20"},
    "scaling": {"num_workers": 0},
}


class SetupError(Exception):
    """A case could not be prepared: a bug of this harness, not a finding."""


@dataclass
class Plan:
    """The raytrec arguments of the measured command, its extra environment and directory."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None  # default: the case directory
    prefix: list[str] = field(default_factory=list)  # e.g. prlimit --fsize=N --


@dataclass
class Ctx:
    """One case's temporary directory, interpreter and notes (setup -> check)."""

    root: Path
    python: str
    pythonpath: str | None
    notes: dict[str, Any] = field(default_factory=dict)
    tmp: Path | None = None  # TMPDIR of every command (beside root, so root's listing holds
    ray_tmp: Path | None = None  # only what raytrec made); RAY_TMPDIR: short for Ray's sockets
    flags: dict[str, str] = field(default_factory=dict)  # verdict -> why (bad_verdict)
    cleanups: list[Callable[[], None]] = field(default_factory=list)  # run even on failure

    def flag(self, verdict: str, why: str) -> None:
        """The case's check judged ``verdict`` (data loss, silent, leftover, ...)."""
        self.flags.setdefault(verdict, why)

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        if self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath
        env.update({"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"})
        if self.tmp is not None:
            env["TMPDIR"] = str(self.tmp)
        if self.ray_tmp is not None:
            env["RAY_TMPDIR"] = str(self.ray_tmp)
        env.update(extra or {})
        return env

    def command(self, argv: list[str]) -> list[str]:
        return [self.python, "-m", "raytrec.cli.main", *argv]

    def cli(self, argv: list[str], env: dict[str, str] | None = None,
            timeout: float = 120.0, signals: Signals | None = None) -> Result:
        """A preparatory command (not the measured one)."""
        return run_command(self.command(argv), self.root, self.env(env), timeout, signals,
                           self.root)

    def must(self, argv: list[str], env: dict[str, str] | None = None) -> Result:
        result = self.cli(argv, env)
        if result.exit != 0:
            raise SetupError(f"setup command {' '.join(argv)} gave exit {result.exit}: "
                             f"{message(result.stderr)}")
        return result

    def config(self, name: str = "c.yaml", **sections: dict[str, Any]) -> str:
        write_config(self.root / name, **sections)
        return name

    def finished_run(self, epochs: int = 2) -> Path:
        """A finished in-process run at ``run/``."""
        self.must(["train", self.config("c.yaml", train={"epochs": epochs}), "--run-dir", "run"])
        return self.root / "run"


Setup = Callable[[Ctx], Plan]
Check = Callable[[Ctx, Result], str]


@dataclass
class Case:
    id: str
    group: str
    setup: Setup
    check: Check
    timeout: float = 90.0
    signals: Signals | None = None
    sentinel: bool = False  # plant a sentinel file in the case directory (bad_leftovers)


def write_config(path: Path, **sections: dict[str, Any]) -> Path:
    """BASE with sections merged in; naming another plugin replaces the section (as tests do)."""
    config = {k: dict(v) for k, v in BASE.items()}
    for name, value in sections.items():
        base = config.get(name, {})
        replace = "name" in value and value["name"] != base.get("name")
        config[name] = dict(value) if replace else {**base, **value}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def write_csv(path: Path, header: str, rows: list[tuple[str, ...]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + "".join(",".join(row) + "\n" for row in rows))
    return path


def interactions(users: int = 200, items: int = 100, per_user: int = 20,
                 seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [(str(u), str(i)) for u in range(1, users + 1)
            for i in rng.sample(range(1, items + 1), per_user)]


def csv_data(path: Path, **extra: str) -> dict[str, Any]:
    return {"name": "csv", "path": str(path), **extra}


def search_config(ctx: Ctx, search: dict[str, Any]) -> str:
    path = write_config(ctx.root / "s.yaml")
    config = yaml.safe_load(path.read_text())
    config["search"] = search
    config["tune"] = {"num_samples": 1, "scheduler": "fifo"}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return "s.yaml"


def overrides_case(*sets: str, epochs: int | None = None) -> Setup:
    """``train c.yaml --run-dir run --set ...`` on the base config."""

    def setup(ctx: Ctx) -> Plan:
        name = ctx.config(train={"epochs": epochs}) if epochs else ctx.config()
        argv = ["train", name, "--run-dir", "run"]
        for item in sets:
            argv += ["--set", item]
        return Plan(argv)

    return setup


def new_case(case_id: str, group: str, setup: Setup, check: Check, timeout: float = 90.0,
             signals: Signals | None = None) -> Case:
    """A case of the lock/partial/signal/disk/path/size/input classes: with a sentinel."""
    return Case(case_id, group, setup, check, timeout, signals, sentinel=True)
