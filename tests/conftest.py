"""Shared fixtures: quiet Ray settings, small synthetic runs, one local Ray cluster."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before anything imports Ray: no token auth, no usage stats, fast Train start-up.
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
from raytrec.run.ray_setup import set_ray_env

set_ray_env()

SYNTHETIC = {"name": "synthetic", "num_users": 300, "num_items": 200,
             "interactions_per_user": 25, "num_clusters": 5, "seed": 1}


def write_config(path: Path, **sections: dict) -> Path:
    import yaml

    config = {"data": SYNTHETIC, "mapper": {"name": "embedding", "dim": 16, "distance": "l2",
                                           "max_norm": 1.0},
              "sampler": {"name": "uniform", "num_negatives": 10},
              "train": {"epochs": 3, "batch_size": 512, "lr": 0.1},
              "eval": {"ks": [10, 20], "metric": "recall@20"},
              "scaling": {"num_workers": 0}}
    for name, value in sections.items():
        base = config.get(name, {})
        # Naming another plugin replaces the section, as in a real config.
        replace = "name" in value and value["name"] != base.get("name")
        config[name] = dict(value) if replace else {**base, **value}
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def interrupt_epoch(monkeypatch: pytest.MonkeyPatch):
    """``interrupt_epoch(n)``: the loop's n-th epoch from now raises KeyboardInterrupt, as a
    Ctrl-C would; ``interrupt_epoch(None)`` puts the real epoch back."""
    from raytrec.train import loop

    real = loop.run_epoch

    def arm(n: int | None) -> None:
        calls = {"n": 0}

        def epoch(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == n:
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        monkeypatch.setattr(loop, "run_epoch", real if n is None else epoch)

    return arm


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write_config(tmp_path / "small.yaml")


@pytest.fixture(scope="session")
def ray_cluster():
    """One local cluster for every test that needs Ray."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=True, dashboard_host="127.0.0.1",
             object_store_memory=512 * 1024**2, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 2-epoch run of ``write_config``'s config, shared read-only by the tests that
    serve from a run (copy it before changing anything in it)."""
    from raytrec.cli.main import main

    tmp = tmp_path_factory.mktemp("tiny-run")
    cfg = write_config(tmp / "c.yaml", train={"epochs": 2})
    assert main([str(a) for a in ("train", cfg, "--run-dir", tmp / "run")]) == 0
    return tmp / "run"
