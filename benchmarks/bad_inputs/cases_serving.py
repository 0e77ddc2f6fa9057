"""Cases of the group "exports and resume": recommend on a damaged export (garbage
index.faiss, files that do not match manifest.json, a missing id map), --resume after the
run's config.yaml was edited, and ``raytrec jobs status ''``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from bad_checks import dir_state
from bad_context import Case, Ctx, Plan, Setup, new_case
from bad_runner import Result
from bad_runs import stopped_run

GROUP = "exports and resume"


def export_case(damage: Callable[[Path], None]) -> Setup:
    def setup(ctx: Ctx) -> Plan:
        ctx.finished_run()
        ctx.must(["export", "run", "--out", "exp"])
        damage(ctx.root / "exp")
        return Plan(["recommend", "exp", "--user", "1"])

    return setup


def garbage_index(exp: Path) -> None:
    (exp / "index.faiss").write_bytes(b"\x00garbage" * 1000)


def fewer_items(exp: Path) -> None:
    """items.parquet and item_embeddings.parquet from another export: 50 rows, not 200."""
    import pyarrow.parquet as pq

    for name in ("items.parquet", "item_embeddings.parquet"):
        pq.write_table(pq.read_table(exp / name).slice(0, 50), exp / name)


def missing_users(exp: Path) -> None:
    (exp / "users.parquet").unlink()


def check_export(ctx: Ctx, result: Result) -> str:
    if result.exit == 0:
        ctx.flag("silent", "recommendations served from a damaged export")
    return f"recommend exit {result.exit}; stdout lines {len(result.stdout.splitlines())}"


def edited_case(edit: Callable[[dict], str]) -> Setup:
    def setup(ctx: Ctx) -> Plan:
        stopped_run(ctx)
        path = ctx.root / "run" / "config.yaml"
        config = yaml.safe_load(path.read_text())
        ctx.notes["key"] = edit(config)
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return Plan(["train", "--resume", "run"])

    return setup


def dim_changed(config: dict) -> str:
    config["mapper"]["dim"] = 32
    return "mapper.dim"


def key_removed(config: dict) -> str:
    del config["mapper"]["max_norm"]
    return "mapper.max_norm"


def distance_changed(config: dict) -> str:
    config["mapper"]["distance"] = "dot"
    return "mapper.distance"


def check_edited(ctx: Ctx, result: Result) -> str:
    key = ctx.notes.pop("key")
    named = key in (result.stdout + result.stderr)
    if result.exit == 0 and not named:
        ctx.flag("silent", f"resumed a checkpoint that no longer matches {key} without a word")
    return f"edited {key}; message names it: {'yes' if named else 'no'}; {dir_state(ctx.root)}"


def check_nothing(ctx: Ctx, result: Result) -> str:
    return dir_state(ctx.root)


SERVING_CASES: list[Case] = [
    new_case("recommend-garbage-index", GROUP, export_case(garbage_index), check_export),
    new_case("recommend-manifest-mismatch", GROUP, export_case(fewer_items), check_export),
    new_case("recommend-missing-users-file", GROUP, export_case(missing_users), check_export),
    new_case("resume-config-dim-changed", GROUP, edited_case(dim_changed), check_edited),
    new_case("resume-config-key-removed", GROUP, edited_case(key_removed), check_edited),
    new_case("resume-config-distance-changed", GROUP, edited_case(distance_changed),
             check_edited),
    new_case("jobs-status-empty-id", GROUP, lambda ctx: Plan(["jobs", "status", "", "--address", "http://127.0.0.1:8265"]),
             check_nothing, 60),
]
