"""Cases of the group "signals": SIGTERM (and SIGHUP) at each phase, to the process group
as a terminal or ``timeout`` sends it and to the process only as ``kill PID`` or a
container runtime does, in-process and with Ray workers; SIGTERM then ``--resume``; Ctrl-C
after the results were written.
"""

from __future__ import annotations

import re
import signal

from bad_checks import dir_state
from bad_context import Case, Ctx, Plan, Setup, new_case, search_config
from bad_runner import Result, Signals
from bad_runs import LONG, consistency, finished, stopped_run

GROUP = "signals"
TERM = signal.SIGTERM
RAY = ["--set", "scaling.num_workers=2", "--set", "scaling.cpus_per_worker=0.5"]
PROGRESS = "run/progress.jsonl"


def train_case(epochs: int = LONG, extra: list[str] | None = None,
               **sections: dict) -> Setup:
    def setup(ctx: Ctx) -> Plan:
        ctx.config(train={"epochs": epochs}, **sections)
        return Plan(["train", "c.yaml", "--run-dir", "run", *(extra or [])])

    return setup


def check_stopped(ctx: Ctx, result: Result) -> str:
    """How the signalled command ended: its hint, the time it took, what it left."""
    said = result.stdout + result.stderr
    hint = re.search(r"--resume (\S+)", said)
    after = result.exit_after_first_signal
    ended = ("no signal sent" if not result.signals_sent else "still running at the timeout"
             if after is None else f"exited {after:.1f} s after the signal")
    if result.exit == 0 and result.signals_sent:
        ctx.flag("silent", "exit 0 after the signal: the stop was not reported")
    elif result.signals_sent and not hint and (ctx.root / "run").is_dir() and \
            not ctx.notes.get("reader"):  # a reader has nothing to resume
        ctx.flag("silent", "stopped without a word on how to go on (no --resume line)")
    return (f"{ended}; --resume hint: {hint.group(1) if hint else 'none'}; "
            f"{dir_state(ctx.root)}")


def setup_term_then_resume(extra: list[str]) -> Setup:
    def setup(ctx: Ctx) -> Plan:
        ctx.notes["stop"] = stopped_run(ctx, sig=TERM).exit
        return Plan(["train", "--resume", "run"])

    return setup


def check_resumed(ctx: Ctx, result: Result) -> str:
    run = ctx.root / "run"
    return (f"SIGTERMed run exit {ctx.notes.pop('stop')}; {finished(ctx, run)}; "
            f"{consistency(ctx, run, 1)}")


def check_after_results(ctx: Ctx, result: Result) -> str:
    written = (ctx.root / "run" / "metrics.json").is_file()
    said = result.stdout + result.stderr
    claim = "says nothing was written" if "nothing was written" in said else (
        "says the run finished" if "finished" in said else "neither")
    if written and "nothing was written" in said:
        ctx.flag("silent", "metrics.json was written but the message says nothing was")
    return f"metrics.json {'written' if written else 'absent'}; message {claim}"


def setup_evaluate(ctx: Ctx) -> Plan:
    """A run large enough that re-scoring it outlasts the start-up (~2 s) by a few seconds."""
    ctx.config(train={"epochs": 1}, data={"num_users": 20000, "num_items": 3000})
    ctx.must(["train", "c.yaml", "--run-dir", "run"])
    return Plan(["evaluate", "run"])


def check_evaluate(ctx: Ctx, result: Result) -> str:
    ctx.notes["reader"] = True
    return f"{check_stopped(ctx, result)}; metrics.json kept: " \
        f"{(ctx.root / 'run' / 'metrics.json').is_file()}"


def setup_tune(ctx: Ctx) -> Plan:
    s = search_config(ctx, {"loss.margin": {"uniform": [0.1, 1.0]}})
    # Long enough that the signal lands inside the search, not after it.
    return Plan(["tune", s, "--run-dir", "run", "--set", "tune.num_samples=2",
                 "--set", "train.epochs=400", "--set", "train.patience=null"])


BIG = {"data": {"num_users": 40000, "num_items": 5000, "interactions_per_user": 25}}
EASE_SLOW = {"data": {"num_items": 3000, "interactions_per_user": 30}}

SIGNAL_CASES: list[Case] = [
    new_case("sigterm-training", GROUP, train_case(), check_stopped, 90,
             Signals(after_file=PROGRESS, sig=TERM)),
    new_case("sigterm-training-pid-only", GROUP, train_case(), check_stopped, 90,
             Signals(after_file=PROGRESS, sig=TERM, group=False)),
    new_case("sighup-training", GROUP, train_case(), check_stopped, 90,
             Signals(after_file=PROGRESS, sig=signal.SIGHUP)),
    new_case("sigterm-preparation", GROUP, train_case(2, **BIG), check_stopped, 120,
             Signals(after_file=".run.staging-*/data", at=(1.0,), sig=TERM)),
    new_case("sigterm-twice-training", GROUP, train_case(), check_stopped, 90,
             Signals(after_file=PROGRESS, at=(0.0, 0.3), sig=TERM)),
    new_case("sigterm-then-resume", GROUP, setup_term_then_resume([]), check_resumed),
    new_case("sigterm-evaluate", GROUP, setup_evaluate, check_evaluate, 60,
             Signals(after_file=None, at=(3.0,), sig=TERM)),
    new_case("sigint-after-results", GROUP, train_case(2, **EASE_SLOW), check_after_results,
             90, Signals(after_file="run/metrics.json")),
    new_case("sigterm-ray-start", GROUP, train_case(extra=RAY), check_stopped, 150,
             Signals(after_stdout="run directory:", at=(4.0,), sig=TERM)),
    new_case("sigterm-ray-training", GROUP, train_case(extra=RAY), check_stopped, 180,
             Signals(after_file=PROGRESS, sig=TERM)),
    new_case("sigterm-ray-pid-only", GROUP, train_case(extra=RAY), check_stopped, 180,
             Signals(after_file=PROGRESS, sig=TERM, group=False)),
    new_case("sigterm-tune", GROUP, setup_tune, check_stopped, 180,
             Signals(after_file="run/ray/*", at=(8.0,), sig=TERM)),
    new_case("sigterm-tune-pid-only", GROUP, setup_tune, check_stopped, 180,
             Signals(after_file="run/ray/*", at=(8.0,), sig=TERM, group=False)),
]
