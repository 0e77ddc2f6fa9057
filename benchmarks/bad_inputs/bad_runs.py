"""Run directories for the new cases: interrupted or killed runs, and what one holds.

``consistency`` is the check of two writers: whether config.yaml and progress.jsonl belong to
one run (the epochs configured against the epochs logged, epochs logged twice or out of order).
"""

from __future__ import annotations

import itertools
import json
import signal
from pathlib import Path
from typing import Any

import yaml
from bad_context import Ctx, SetupError
from bad_runner import Result, Signals, message

LONG = 200  # epochs of a background run: ~10-30 s in-process on this machine
SHORT = 12  # epochs of a run interrupted at its first epoch; --resume finishes it in seconds


def stopped_run(ctx: Ctx, sig: int = signal.SIGINT, epochs: int = SHORT, name: str = "run",
                config: str = "c.yaml", group: bool = True) -> Result:
    """``train`` stopped by ``sig`` once its first epoch is logged; SetupError if it was not
    stopped (it finished, or it never started)."""
    ctx.config(config, train={"epochs": epochs, "patience": epochs})  # no early stop
    when = Signals(after_file=f"{name}/progress.jsonl", sig=sig, group=group)
    result = ctx.cli(["train", config, "--run-dir", name], signals=when)
    if not result.signals_sent or (ctx.root / name / "metrics.json").exists():
        raise SetupError(f"train was not stopped by signal {sig}: exit {result.exit} after "
                         f"{result.seconds} s, signals sent at {result.signals_sent}, "
                         f"{message(result.stderr)}; stdout {result.stdout[-200:]!r}")
    if not any((ctx.root / name / "checkpoints").glob("checkpoint_*")):
        raise SetupError(f"signal {sig} left no checkpoint in {name}/checkpoints")
    return result


def checkpoints(run: Path) -> list[Path]:
    return sorted((run / "checkpoints").glob("checkpoint_*"))


def progress(run: Path) -> list[dict[str, Any]]:
    path = run / "progress.jsonl"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            rows.append({"epoch": None})  # a torn line: two writers or a kill mid-write
    return rows


def config_value(run: Path, *keys: str) -> Any:
    try:
        value: Any = yaml.safe_load((run / "config.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return None
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def consistency(ctx: Ctx, run: Path, resumes: int = 0) -> str:
    """Whether config.yaml and progress.jsonl tell one run's story; flags data loss if not.

    Each of ``resumes`` legitimate resumptions may log again the epoch its run was stopped
    in (the kill came after the progress line, before the checkpoint): one step back each.
    """
    rows = progress(run)
    # A finished run's last line repeats its last epoch with the test metrics ("finished").
    ends = sum(1 for r in rows if "finished" in r)
    epochs = [r.get("epoch") for r in rows if "finished" not in r]
    configured = config_value(run, "train", "epochs")
    problems = []
    if None in epochs:
        problems.append("torn progress line")
    if ends > 1 + resumes:  # a run resumed after its last epoch ends (and says so) again
        problems.append(f"{ends} 'finished' lines: two runs ended in this progress.jsonl")
    numbers = [e for e in epochs if isinstance(e, int)]
    back = sum(1 for a, b in itertools.pairwise(numbers) if b <= a)
    if back > resumes:
        problems.append(f"epochs go back {back} times (interleaved writers; {resumes} "
                        "resume(s) expected)")
    if isinstance(configured, int) and numbers and max(numbers) > configured:
        problems.append(f"progress reaches epoch {max(numbers)} but config.yaml says "
                        f"{configured} epochs")
    metrics = (run / "metrics.json").is_file()
    text = (f"config.yaml epochs {configured}; progress.jsonl {len(rows)} lines, {ends} "
            f"'finished' "
            f"(last epoch {numbers[-1] if numbers else None}); metrics.json "
            f"{'present' if metrics else 'absent'}")
    if problems:
        ctx.flag("data loss", "; ".join(problems))
        return f"{text}; INCONSISTENT: {'; '.join(problems)}"
    return f"{text}; consistent"


def finished(ctx: Ctx, run: Path) -> str:
    """Whether a run resumed or rerun by the measured command finished."""
    rows = [r for r in progress(run) if "finished" not in r]
    numbers = [r.get("epoch") for r in rows if isinstance(r.get("epoch"), int)]
    state = "finished (metrics.json)" if (run / "metrics.json").is_file() else "not finished"
    return (f"{run.name}/ {state}; progress epochs {numbers[:1]}..{numbers[-1:]} "
            f"({len(numbers)} epoch lines); checkpoints {[p.name[-2:] for p in checkpoints(run)]}")
