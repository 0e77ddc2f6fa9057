"""Cases of the group "data loss": --overwrite on what raytrec did not make, or then failing."""

from __future__ import annotations

import os

from bad_checks import dir_state, file_state
from bad_context import Case, Ctx, Plan, search_config
from bad_runner import Result

THESIS = b"x\n"


def _precious(ctx: Ctx) -> None:
    (ctx.root / "precious").mkdir()
    (ctx.root / "precious" / "thesis.txt").write_bytes(THESIS)


def check_precious(ctx: Ctx, result: Result) -> str:
    return file_state(ctx.root / "precious" / "thesis.txt", THESIS, "precious/thesis.txt")


def setup_overwrite_foreign(ctx: Ctx) -> Plan:
    _precious(ctx)
    return Plan(["train", ctx.config(), "--run-dir", "precious", "--overwrite"])


def setup_tune_overwrite_foreign(ctx: Ctx) -> Plan:
    _precious(ctx)
    s = search_config(ctx, {"loss.margin": {"uniform": [0.1, 1.0]}})
    return Plan(["tune", s, "--run-dir", "precious", "--overwrite"])


def setup_overwrite_cwd(ctx: Ctx) -> Plan:
    ctx.notes["config"] = (ctx.root / ctx.config()).read_bytes()
    return Plan(["train", "c.yaml", "--run-dir", str(ctx.root), "--overwrite"])


def check_overwrite_cwd(ctx: Ctx, result: Result) -> str:
    text = file_state(ctx.root / "c.yaml", ctx.notes.pop("config"), "c.yaml")
    if (ctx.root / "config.yaml").is_file():
        text += "; the directory now holds a run"
    return text


BOOM = '''"""A loss that fails on its first batch."""

import raytrec
from raytrec.losses import Loss, LossInput, LossOutput


class BoomLoss(Loss):
    def compute(self, batch: LossInput) -> LossOutput:
        raise RuntimeError("boom")

    def forward(self, batch: LossInput) -> LossOutput:
        raise RuntimeError("boom")


@raytrec.hookimpl
def register_losses(register):
    register("boom", BoomLoss)
'''


def boom_plugin(ctx: Ctx) -> dict[str, str]:
    """An entry point ``boom`` in group raytrec, found on PYTHONPATH; returns the env."""
    plug = ctx.root / "plug"
    info = plug / "boom_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (plug / "boom_plugin.py").write_text(BOOM)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: boom-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[raytrec]\nboom = boom_plugin\n")
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(plug), ctx.pythonpath) if p)}


def setup_overwrite_then_fail(ctx: Ctx) -> Plan:
    run = ctx.finished_run()
    ctx.notes["metrics"] = (run / "metrics.json").read_bytes()
    env = boom_plugin(ctx)
    return Plan(["train", ctx.config("c2.yaml", loss={"name": "boom"}), "--run-dir", "run",
                 "--overwrite"], env)


def check_overwrite_then_fail(ctx: Ctx, result: Result) -> str:
    text = file_state(ctx.root / "run" / "metrics.json", ctx.notes.pop("metrics"),
                      "old run's metrics.json")
    return f"{text}; {dir_state(ctx.root)}"


DATA_LOSS_CASES: list[Case] = [
    Case("overwrite-foreign-dir", "data loss", setup_overwrite_foreign, check_precious),
    Case("tune-overwrite-foreign-dir", "data loss", setup_tune_overwrite_foreign,
         check_precious, timeout=180),
    Case("overwrite-cwd", "data loss", setup_overwrite_cwd, check_overwrite_cwd),
    Case("overwrite-then-fail", "data loss", setup_overwrite_then_fail,
         check_overwrite_then_fail),
]
