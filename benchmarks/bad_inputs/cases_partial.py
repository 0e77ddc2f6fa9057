"""Cases of the group "partial files": what a writer SIGKILLed at each write point leaves,
then the next command (mostly ``train --resume``).

Some leftovers come from a real SIGKILL (in training, at preparation, after metrics.json);
those of write points too short to hit by polling (mid checkpoint copy, mid state.pt,
mid final outputs) are built by hand from a stopped or finished run, file for file as the
writer leaves them.
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

from bad_checks import dir_state
from bad_context import Case, Ctx, Plan, Setup, SetupError, new_case
from bad_runner import Result, Signals
from bad_runs import LONG, checkpoints, consistency, finished, stopped_run

GROUP = "partial files"
RESUME = ["train", "--resume", "run"]
# Preparation of this much data takes a few seconds: long enough to be killed during it.
BIG_DATA = {"num_users": 40000, "num_items": 5000, "interactions_per_user": 25}


def _next_tmp(ctx: Ctx) -> tuple[Path, Path]:
    """(the newest checkpoint of a stopped run, the .tmp_N its next copy would use)."""
    stopped_run(ctx)
    last = checkpoints(ctx.root / "run")[-1]
    n = int(last.name.split("_")[-1]) + 1
    return last, last.parent / f".tmp_{n:06d}"


def setup_half_copy(times: int) -> Setup:
    """Killed mid ``copytree`` of a checkpoint: .tmp_N with config.json and half a state.pt.
    ``times`` > 1 runs --resume first ``times - 1`` times (each may fail)."""

    def setup(ctx: Ctx) -> Plan:
        last, tmp = _next_tmp(ctx)
        tmp.mkdir()
        shutil.copy(last / "config.json", tmp / "config.json")
        data = (last / "state.pt").read_bytes()
        (tmp / "state.pt").write_bytes(data[: len(data) // 2])
        ctx.notes["earlier"] = [ctx.cli(RESUME).exit for _ in range(times - 1)]
        return Plan(RESUME)

    return setup


def setup_state_tmp(ctx: Ctx) -> Plan:
    """Killed in ``torch.save`` inside the copy: .tmp_N/state.pt.tmp, no state.pt."""
    last, tmp = _next_tmp(ctx)
    tmp.mkdir()
    shutil.copy(last / "config.json", tmp / "config.json")
    (tmp / "state.pt.tmp").write_bytes((last / "state.pt").read_bytes()[:1000])
    return Plan(RESUME)


def setup_state_tmp_inside(ctx: Ctx) -> Plan:
    """A stray state.pt.tmp inside the newest complete checkpoint."""
    last, _ = _next_tmp(ctx)
    (last / "state.pt.tmp").write_bytes(b"\0" * 1000)
    return Plan(RESUME)


def setup_final_outputs(ctx: Ctx) -> Plan:
    """Killed while copying the final outputs: metrics.json and model.pt not yet there, a
    half .model.pt.tmp."""
    run = ctx.finished_run()
    data = (run / "model.pt").read_bytes()
    (run / ".model.pt.tmp").write_bytes(data[: len(data) // 2])
    for name in ("metrics.json", "model.pt"):
        (run / name).unlink()
    return Plan(RESUME)


def setup_metrics_tmp_evaluate(ctx: Ctx) -> Plan:
    run = ctx.finished_run()
    (run / ".metrics.json.tmp").write_text('{"test": {"recall@')
    return Plan(["evaluate", "run"])


def setup_staging_rerun(argv: list[str]) -> Setup:
    """Killed in preparation: a ``.run.staging-*`` folder beside where run/ would be."""

    def setup(ctx: Ctx) -> Plan:
        ctx.config("big.yaml", data=BIG_DATA)
        when = Signals(after_file=".run.staging-*/data", at=(1.0,), sig=signal.SIGKILL)
        result = ctx.cli(["train", "big.yaml", "--run-dir", "run"], signals=when)
        left = sorted(p.name for p in ctx.root.glob(".run.staging-*"))
        if not result.signals_sent or not left:
            raise SetupError(f"no staging folder to kill in (exit {result.exit}, left {left})")
        ctx.notes["staging"] = left
        ctx.config("c.yaml")
        return Plan(argv)

    return setup


def setup_killed_overwrite(ctx: Ctx) -> Plan:
    """Killed in the first epoch of ``--overwrite`` of a finished run: run.previous and a
    new run/ with a checkpoint."""
    ctx.finished_run()
    ctx.config("c2.yaml", train={"epochs": LONG, "patience": LONG})
    # run.previous appears when the new run is installed, right before training starts; a
    # short run would finish (and drop run.previous) before the kill.
    when = Signals(after_file="run.previous", at=(1.0,), sig=signal.SIGKILL)
    ctx.cli(["train", "c2.yaml", "--run-dir", "run", "--overwrite"], signals=when)
    if not (ctx.root / "run.previous").is_dir():
        raise SetupError("the killed --overwrite left no run.previous")
    return Plan(RESUME)


def setup_killed_once(ctx: Ctx) -> Plan:
    stopped_run(ctx, sig=signal.SIGKILL)
    return Plan(RESUME)


def setup_killed_twice(ctx: Ctx) -> Plan:
    stopped_run(ctx, sig=signal.SIGKILL)
    when = Signals(after_stdout="resuming from", at=(1.5,), sig=signal.SIGKILL)
    ctx.notes["earlier"] = [ctx.cli(RESUME, signals=when).exit]
    return Plan(RESUME)


def setup_killed_after_metrics(ctx: Ctx) -> Plan:
    ctx.config(train={"epochs": 3})
    when = Signals(after_file="run/metrics.json", sig=signal.SIGKILL)
    ctx.cli(["train", "c.yaml", "--run-dir", "run"], signals=when)
    return Plan(["evaluate", "run"])


def check_resumed(ctx: Ctx, result: Result) -> str:
    earlier = ctx.notes.pop("earlier", [])
    before = f"earlier --resume exits {earlier}; " if earlier else ""
    run = ctx.root / "run"
    kept = sorted(p.name for p in ctx.root.glob("run.previous*"))
    return (f"{before}{finished(ctx, run)}; {consistency(ctx, run, 1 + len(earlier))}"
            + (f"; kept {kept}" if kept else ""))


def check_staging(ctx: Ctx, result: Result) -> str:
    killed = ctx.notes.pop("staging")
    still = [n for n in killed if (ctx.root / n).exists()]
    return f"killed staging {killed}, still there: {still or 'none'}; {dir_state(ctx.root)}"


def check_evaluated(ctx: Ctx, result: Result) -> str:
    return f"evaluate exit {result.exit}; {dir_state(ctx.root)}"


PARTIAL_CASES: list[Case] = [
    new_case("partial-ckpt-copy-resume", GROUP, setup_half_copy(1), check_resumed),
    new_case("partial-ckpt-copy-resume-twice", GROUP, setup_half_copy(3), check_resumed, 120),
    new_case("partial-state-pt-tmp", GROUP, setup_state_tmp, check_resumed),
    new_case("partial-state-tmp-in-checkpoint", GROUP, setup_state_tmp_inside, check_resumed),
    new_case("partial-final-outputs", GROUP, setup_final_outputs, check_resumed),
    new_case("partial-metrics-tmp-evaluate", GROUP, setup_metrics_tmp_evaluate,
             check_evaluated),
    new_case("sigkill-preparation-rerun", GROUP,
             setup_staging_rerun(["train", "c.yaml", "--run-dir", "run"]), check_staging, 120),
    new_case("sigkill-preparation-resume", GROUP, setup_staging_rerun(RESUME), check_staging,
             120),
    new_case("sigkill-training-resume", GROUP,
             setup_killed_once, check_resumed),
    new_case("sigkill-resume-twice", GROUP, setup_killed_twice, check_resumed, 120),
    new_case("sigkill-overwrite-resume", GROUP, setup_killed_overwrite, check_resumed),
    new_case("sigkill-after-metrics-evaluate", GROUP, setup_killed_after_metrics,
             check_evaluated),
]
