"""What checks report on disk: files intact or not, run directories left, metrics, data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bad_context import Ctx
from bad_runner import Result


def file_state(path: Path, content: bytes, label: str) -> str:
    if not path.exists():
        return f"{label} deleted"
    if not path.is_file():
        return f"{label} replaced by a directory"
    return f"{label} intact" if path.read_bytes() == content else f"{label} changed"


def dir_state(root: Path, name: str = "run") -> str:
    """Whether a run directory was left, finished or half-written, and any staging leftover."""
    path = root / name
    staging = sorted(p.name for p in root.glob("*.staging"))
    tail = f"; staging left: {', '.join(staging)}" if staging else ""
    if not path.exists():
        return f"no {name}/ created{tail}"
    if not path.is_dir():
        return f"{name} is a file{tail}"
    entries = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
    if not entries:
        return f"empty {name}/ left{tail}"
    if (path / "metrics.json").is_file():
        return f"{name}/ finished (metrics.json){tail}"
    return f"run dir left: {name}/ ({', '.join(entries[:6])}) (blocks rerun){tail}"


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def train_loss(root: Path) -> str:
    metrics = read_json(root / "run" / "metrics.json")
    if metrics is None:
        return "no metrics.json"
    return (f"metrics.json written: train loss {metrics.get('train', {}).get('loss')}, "
            f"best epoch {metrics.get('best_epoch')} of {metrics.get('epochs_run')}")


def mentions(result: Result, word: str) -> str:
    said = word.lower() in (result.stdout + result.stderr).lower()
    return f"'{word}' mentioned: {'yes' if said else 'no'}"


def data_info(root: Path) -> str:
    info = read_json(root / "run" / "data" / "info.json")
    if info is None:
        return "no info.json"
    counts = info.get("num_interactions", {})
    total = sum(counts.values()) if isinstance(counts, dict) else counts
    return f"info.json: {info.get('num_users')} users, {total} interactions"


def users_table(root: Path) -> Any:
    import pandas as pd

    path = root / "run" / "data" / "users.parquet"
    return pd.read_parquet(path) if path.is_file() else None


def check_run_dir(ctx: Ctx, result: Result) -> str:
    return dir_state(ctx.root)
