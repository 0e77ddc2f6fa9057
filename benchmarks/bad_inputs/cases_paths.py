"""Cases of the group "paths": --run-dir through symbolic links (to an empty folder, to an
earlier run with --overwrite, dangling, a loop, to a file, a linked parent), and literal
``~``, ``$VAR``, ``''``, ``/``, a trailing slash, spaces and non-ASCII in --run-dir.
"""

from __future__ import annotations

import os
from pathlib import Path

from bad_checks import dir_state, file_state
from bad_context import Case, Ctx, Plan, Setup, new_case
from bad_leftovers import plant
from bad_runner import Result
from bad_runs import finished

GROUP = "paths"
AFILE = b"a file the link points to\n"


def link_case(kind: str, overwrite: bool = False) -> Setup:
    """``--run-dir link`` where link is ``kind``."""

    def setup(ctx: Ctx) -> Plan:
        target = ctx.root / "target"
        if kind == "empty":
            target.mkdir()
        elif kind == "run":
            ctx.finished_run()
            (ctx.root / "run").rename(target)
            ctx.notes["metrics"] = (target / "metrics.json").read_bytes()
        elif kind == "file":
            target.write_bytes(AFILE)
        if kind == "loop":
            os.symlink("loop2", ctx.root / "link")
            os.symlink("link", ctx.root / "loop2")
        else:
            os.symlink("target", ctx.root / "link")
        ctx.config("c2.yaml", train={"epochs": 3})
        return Plan(["train", "c2.yaml", "--run-dir", "link", *(["--overwrite"] * overwrite)])

    return setup


def check_link(ctx: Ctx, result: Result) -> str:
    link, target = ctx.root / "link", ctx.root / "target"
    state = f"link -> {os.readlink(link)}" if link.is_symlink() else (
        "link replaced by a directory" if link.is_dir() else "link gone")
    if not link.is_symlink():
        ctx.flag("data loss", "the user's symbolic link was replaced or removed")
    moved = sorted(p.name for p in ctx.root.glob("link.previous*"))
    if target.is_file():
        return f"{state}; {file_state(target, AFILE, 'target file')}"
    inside = finished(ctx, target) if target.is_dir() else "target absent"
    metrics = ctx.notes.pop("metrics", None)
    if metrics is not None:
        old = target / "metrics.json"
        inside += "; earlier run's metrics.json " + ("intact" if old.is_file() and
                                                     old.read_bytes() == metrics else "replaced")
    return f"{state}; target: {inside}; renamed: {moved or 'none'}"


def setup_linked_parent(ctx: Ctx) -> Plan:
    real = ctx.root / "real"
    plant(ctx, real)
    os.symlink("real", ctx.root / "plink")
    return Plan(["train", ctx.config(), "--run-dir", "plink/run"])


def check_linked_parent(ctx: Ctx, result: Result) -> str:
    link = ctx.root / "plink"
    return (f"plink {'still a link' if link.is_symlink() else 'no longer a link'}; "
            f"{finished(ctx, ctx.root / 'real' / 'run')}")


def literal_case(run_dir: str, home: bool = False) -> Setup:
    def setup(ctx: Ctx) -> Plan:
        env = {}
        if home:
            plant(ctx, ctx.root / "home")
            env = {"HOME": str(ctx.root / "home"), "RUNS": str(ctx.root / "runs")}
        return Plan(["train", ctx.config(), f"--run-dir={run_dir}"], env=env)

    return setup


def check_created(ctx: Ctx, result: Result) -> str:
    """Every run directory the command made, wherever it put it."""
    made = sorted(str(p.parent.relative_to(ctx.root)) or "."
                  for p in ctx.root.rglob("config.yaml") if "plug" not in p.parts)
    other = sorted(p.name for p in ctx.root.iterdir()
                   if p.name not in ("c.yaml", "home", "logs", "SENTINEL-keep-me.txt"))
    return f"run directories made: {made or 'none'}; entries: {other}"


def check_empty_run_dir(ctx: Ctx, result: Result) -> str:
    text = check_created(ctx, result)
    if result.exit == 0:
        ctx.flag("silent", "--run-dir '' was taken as the default directory")
    return text


def check_root(ctx: Ctx, result: Result) -> str:
    said = result.stdout + result.stderr
    advice = "advises --overwrite" if "--overwrite" in said else "no --overwrite advice"
    return f"{advice}; / untouched: {Path('/etc/hostname').exists()}"


def setup_trailing_slash(ctx: Ctx) -> Plan:
    return Plan(["train", ctx.config(), "--run-dir", "run/"])


def setup_unicode(ctx: Ctx) -> Plan:
    return Plan(["train", ctx.config(), "--run-dir", "my runs/ラン 1"])


def check_unicode(ctx: Ctx, result: Result) -> str:
    return finished(ctx, ctx.root / "my runs" / "ラン 1")


def check_trailing(ctx: Ctx, result: Result) -> str:
    again = ctx.cli(["train", "--resume", "run/"])
    return f"{dir_state(ctx.root)}; then --resume run/ exit {again.exit}"


PATH_CASES: list[Case] = [
    new_case("symlink-to-empty-dir", GROUP, link_case("empty"), check_link),
    new_case("symlink-to-run-overwrite", GROUP, link_case("run", overwrite=True), check_link),
    new_case("symlink-to-run-no-overwrite", GROUP, link_case("run"), check_link),
    new_case("symlink-dangling", GROUP, link_case("dangling"), check_link),
    new_case("symlink-loop", GROUP, link_case("loop"), check_link),
    new_case("symlink-to-file", GROUP, link_case("file", overwrite=True), check_link),
    new_case("symlink-parent", GROUP, setup_linked_parent, check_linked_parent),
    new_case("run-dir-tilde", GROUP, literal_case("~/x", home=True), check_created),
    new_case("run-dir-dollar-var", GROUP, literal_case("$RUNS/x", home=True), check_created),
    new_case("run-dir-empty", GROUP, literal_case(""), check_empty_run_dir),
    new_case("run-dir-root", GROUP, literal_case("/"), check_root),
    new_case("run-dir-trailing-slash", GROUP, setup_trailing_slash, check_trailing),
    new_case("run-dir-unicode-spaces", GROUP, setup_unicode, check_unicode),
]
