"""Cases of the group "non-finite": NaN or infinite settings and a diverging loss."""

from __future__ import annotations

import json

from bad_checks import dir_state, train_loss
from bad_context import Case, Ctx, Plan, overrides_case
from bad_runner import Result, message


def check_train_loss(ctx: Ctx, result: Result) -> str:
    return f"{train_loss(ctx.root)}; {dir_state(ctx.root)}"


def setup_lr_nan(ctx: Ctx) -> Plan:
    argv = ["train", ctx.config(), "--run-dir", "run", "--set", "train.lr=.nan"]
    first = ctx.cli(argv)
    ctx.notes["first"] = (f"1st run: exit {first.exit}, {message(first.stderr)[:60]!r}, "
                          f"{dir_state(ctx.root)}")
    return Plan(argv)


def check_lr_nan(ctx: Ctx, result: Result) -> str:
    blocked = "already exists" in result.stderr
    return (f"{ctx.notes.pop('first')}; 2nd run blocked by run/: {'yes' if blocked else 'no'}; "
            f"{train_loss(ctx.root)}")


DIVERGING = {"mapper": {"name": "embedding", "dim": 16, "distance": "dot", "max_norm": None},
             "loss": {"name": "bpr"},
             "train": {"epochs": 3, "batch_size": 512, "optimizer": "sgd", "lr": 10000.0}}


def setup_diverging(ctx: Ctx) -> Plan:
    return Plan(["train", ctx.config(**DIVERGING), "--run-dir", "run"])


def check_diverging(ctx: Ctx, result: Result) -> str:
    run = ctx.root / "run"
    losses = []
    if (run / "progress.jsonl").is_file():
        for line in (run / "progress.jsonl").read_text().splitlines():
            row = json.loads(line)
            if "train/loss" in row:
                losses.append(f"{row['train/loss']:.3g}")
    checkpoints = sorted(p.name for p in (run / "checkpoints").glob("checkpoint_*"))
    return (f"{train_loss(ctx.root)}; epoch losses [{', '.join(losses)}]; model.pt "
            f"{'written' if (run / 'model.pt').is_file() else 'absent'}; last checkpoint "
            f"{checkpoints[-1] if checkpoints else 'none'}")


NON_FINITE_CASES: list[Case] = [
    Case("margin-nan", "non-finite", overrides_case("loss.margin=.nan"), check_train_loss),
    Case("lr-nan", "non-finite", setup_lr_nan, check_lr_nan),
    Case("lr-inf", "non-finite", overrides_case("train.lr=.inf"), check_train_loss),
    Case("diverging", "non-finite", setup_diverging, check_diverging),
]
