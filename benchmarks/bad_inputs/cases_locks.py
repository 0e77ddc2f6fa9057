"""Cases of the group "locks": two writers of one run, tune or export directory at once, a
reader during training, and a lock whose holder was SIGKILLed.

The first writer runs in the background (bad_background); the measured command is the
second one. The check lets the first end by itself (up to a minute) and then asks whether
the directory tells one run's story (bad_runs.consistency). Both writers exiting 0 on one
directory is "silent": nothing stopped the second.
"""

from __future__ import annotations

import signal
import time

from bad_background import Background, start
from bad_checks import dir_state
from bad_context import Case, Ctx, Plan, Setup, new_case, search_config
from bad_runner import Result
from bad_runs import LONG, config_value, consistency, stopped_run

GROUP = "locks"


def _background(ctx: Ctx, argv: list[str], wait: str | None, delay: float) -> Background:
    job = start(ctx, argv)
    ctx.notes["bg"] = job
    if wait is not None:
        job.wait_for(ctx.root, wait, timeout=90)
    time.sleep(delay)
    return job


def two_writers(first: list[str], second: list[str], wait: str | None, delay: float,
                finished_first: bool = False, stopped_first: bool = False) -> Setup:
    """``first`` in the background (on a finished or a stopped run when asked), then
    ``second`` once ``wait`` exists and ``delay`` seconds passed."""

    def setup(ctx: Ctx) -> Plan:
        # patience: early stopping would end the first writer in ~2 s, before the second.
        ctx.config("long.yaml", train={"epochs": LONG, "patience": LONG})
        if finished_first:
            ctx.finished_run()
        if stopped_first:
            stopped_run(ctx, epochs=LONG, config="long.yaml")
            ctx.notes["resumes"] = 2  # each resume may log its first epoch again
        ctx.config("c.yaml")
        _background(ctx, first, wait, delay)
        return Plan(second)

    return setup


def _both_finished(ctx: Ctx, result: Result, timeout: float, what: str) -> tuple[Background, str]:
    """The background writer ended; flag ``what`` as silent when both writers exited 0."""
    bg: Background = ctx.notes.pop("bg")
    first = bg.finish(ctx, timeout=timeout)
    if result.exit == 0 and bg.proc.returncode == 0 and not bg.killed:
        ctx.flag("silent", what)
    return bg, first


def check_two_writers(ctx: Ctx, result: Result) -> str:
    bg, first = _both_finished(ctx, result, 60, "both writers exited 0 on one directory")
    if (bg.argv[1] == "long.yaml" and bg.proc.returncode == 0 and not bg.killed
            and config_value(ctx.root / "run", "train", "epochs") != LONG):
        ctx.flag("data loss", "the first writer finished (exit 0) but its run is gone")
    resumes = ctx.notes.pop("resumes", 0)
    return (f"{first}; measured exit {result.exit}; "
            f"{consistency(ctx, ctx.root / 'run', resumes)}")


def check_reader(ctx: Ctx, result: Result) -> str:
    bg: Background = ctx.notes.pop("bg")
    read = "reader worked (exit 0)" if result.exit == 0 else f"reader failed (exit {result.exit})"
    return f"{read}; {bg.finish(ctx, timeout=60)}; {consistency(ctx, ctx.root / 'run')}"


def setup_stale(argv: list[str]) -> Setup:
    """A holder SIGKILLed in its first epoch: whatever lock it held is stale."""

    def setup(ctx: Ctx) -> Plan:
        stopped_run(ctx, sig=signal.SIGKILL)
        return Plan(argv)

    return setup


def check_stale(ctx: Ctx, result: Result) -> str:
    blocked = "blocked by the dead holder" if result.exit == 2 else f"exit {result.exit}"
    return f"{blocked}; {consistency(ctx, ctx.root / 'run', 1)}; {dir_state(ctx.root)}"


def setup_export_race(ctx: Ctx) -> Plan:
    ctx.finished_run()
    _background(ctx, ["export", "run", "--out", "exp"], None, 1.2)
    return Plan(["export", "run", "--out", "exp", "--overwrite"])


def check_export_race(ctx: Ctx, result: Result) -> str:
    import json

    import pyarrow.parquet as pq

    bg: Background = ctx.notes.pop("bg")
    first = bg.finish(ctx, timeout=60)
    exp = ctx.root / "exp"
    try:
        manifest = json.loads((exp / "manifest.json").read_text())
        rows = pq.read_metadata(exp / "items.parquet").num_rows
        state = f"manifest {manifest['num_items']} items, items.parquet {rows} rows"
    except (OSError, ValueError, KeyError) as exc:
        state = f"export unreadable: {type(exc).__name__}"
    previous = sorted(p.name for p in ctx.root.glob("exp.previous*"))
    return f"{first}; measured exit {result.exit}; {state}; kept: {previous or 'none'}"


def setup_tune_race(resume: bool) -> Setup:
    def setup(ctx: Ctx) -> Plan:
        s = search_config(ctx, {"loss.margin": {"uniform": [0.1, 1.0]}})
        argv = ["tune", s, "--run-dir", "run", "--set", "tune.num_samples=2",
                "--set", "train.epochs=60"]
        _background(ctx, argv, "run/ray/*", 6.0)
        return Plan(["tune", "--resume", "run"] if resume else
                    ["tune", s, "--run-dir", "run", "--overwrite"])

    return setup


def check_tune_race(ctx: Ctx, result: Result) -> str:
    _, first = _both_finished(ctx, result, 100, "two searches exited 0 on one tune directory")
    made = sorted(p.name for p in (ctx.root / "run").glob("*")) if (ctx.root / "run").is_dir() \
        else []
    return f"{first}; measured exit {result.exit}; run/ holds {made[:8]}"


TRAIN_LONG = ["train", "long.yaml", "--run-dir", "run"]
OVERWRITE = ["train", "c.yaml", "--run-dir", "run", "--overwrite"]
RESUME = ["train", "--resume", "run"]
PROGRESS = "run/progress.jsonl"
CHECKPOINT = "run/checkpoints/checkpoint_*"

LOCK_CASES: list[Case] = [
    new_case("lock-overwrite-during-train", GROUP,
             two_writers(TRAIN_LONG, OVERWRITE, PROGRESS, 2.0), check_two_writers, 120),
    new_case("lock-two-resumes", GROUP,
             two_writers(RESUME, RESUME, None, 0.5, stopped_first=True), check_two_writers, 120),
    new_case("lock-two-overwrites", GROUP,
             two_writers(["train", "long.yaml", "--run-dir", "run", "--overwrite"], OVERWRITE,
                         None, 0.5, finished_first=True), check_two_writers, 120),
    new_case("lock-resume-during-train", GROUP,
             two_writers(TRAIN_LONG, RESUME, PROGRESS, 1.0), check_two_writers, 120),
    new_case("lock-overwrite-during-resume", GROUP,
             two_writers(RESUME, OVERWRITE, None, 1.5, stopped_first=True), check_two_writers,
             120),
    new_case("lock-new-run-during-train", GROUP,
             two_writers(TRAIN_LONG, ["train", "c.yaml", "--run-dir", "run"], PROGRESS, 1.0),
             check_two_writers, 120),
    new_case("reader-recommend-during-train", GROUP,
             two_writers(TRAIN_LONG, ["recommend", "run", "--user", "1"], CHECKPOINT, 1.0),
             check_reader, 120),
    new_case("reader-evaluate-during-train", GROUP,
             two_writers(TRAIN_LONG, ["evaluate", "run"], CHECKPOINT, 1.0), check_reader, 120),
    new_case("reader-export-during-train", GROUP,
             two_writers(TRAIN_LONG, ["export", "run", "--out", "exp"], CHECKPOINT, 1.0),
             check_reader, 120),
    new_case("stale-lock-resume", GROUP, setup_stale(RESUME), check_stale),
    new_case("stale-lock-overwrite", GROUP, setup_stale(OVERWRITE), check_stale),
    new_case("lock-export-overwrite-race", GROUP, setup_export_race, check_export_race),
    new_case("lock-tune-resume-during-search", GROUP, setup_tune_race(resume=True),
             check_tune_race, 180),
    new_case("lock-tune-overwrite-during-search", GROUP, setup_tune_race(resume=False),
             check_tune_race, 180),
]
