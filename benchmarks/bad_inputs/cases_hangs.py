"""Cases of the group "hangs": too many workers, Ctrl-C at start-up and during training."""

from __future__ import annotations

import re

from bad_checks import check_run_dir, dir_state
from bad_context import Case, Ctx, Plan
from bad_runner import Result, Signals


def setup_too_many_workers(ctx: Ctx) -> Plan:
    return Plan(["train", ctx.config(), "--run-dir", "run", "--set", "scaling.num_workers=3",
                 "--set", "scaling.cpus_per_worker=1"])


def setup_ctrl_c_start(ctx: Ctx) -> Plan:
    return Plan(["train", ctx.config(), "--run-dir", "run", "--set", "scaling.num_workers=2",
                 "--set", "scaling.cpus_per_worker=0.5"])


def check_ctrl_c_start(ctx: Ctx, result: Result) -> str:
    after = result.exit_after_first_signal
    grace = 40.0
    if not result.signals_sent:
        prompt = "no SIGINT sent ('run directory:' never appeared)"
    elif after is None:
        prompt = "still running at the timeout"
    else:
        prompt = f"exited {after:.1f} s after the first SIGINT " + (
            f"(within {grace:.0f} s)" if after <= grace else f"(not within {grace:.0f} s)")
    return f"{prompt}; SIGINTs sent: {len(result.signals_sent)}; {dir_state(ctx.root)}"


def setup_ctrl_c_training(ctx: Ctx) -> Plan:
    return Plan(["train", ctx.config(train={"epochs": 200}), "--run-dir", "run"])


def check_ctrl_c_training(ctx: Ctx, result: Result) -> str:
    said = result.stdout + result.stderr
    if "--resume DIR" in said:
        names = "message names the placeholder DIR"
    elif re.search(r"--resume \S*run\b", said):
        names = "message names the run dir"
    else:
        names = "no --resume hint"
    progress = ctx.root / "run" / "progress.jsonl"
    epochs = len(progress.read_text().splitlines()) if progress.is_file() else 0
    sent = "SIGINT sent" if result.signals_sent else "no SIGINT sent (no progress.jsonl)"
    return f"{names}; {sent}; progress.jsonl lines: {epochs}; {dir_state(ctx.root)}"


HANG_CASES: list[Case] = [
    Case("too-many-workers", "hangs", setup_too_many_workers, check_run_dir, timeout=120),
    Case("ctrl-c-start", "hangs", setup_ctrl_c_start, check_ctrl_c_start, timeout=120,
         signals=Signals(after_stdout="run directory:", at=(3.0, 8.0))),
    Case("ctrl-c-training", "hangs", setup_ctrl_c_training, check_ctrl_c_training, timeout=120,
         signals=Signals(after_file="run/progress.jsonl")),
]
