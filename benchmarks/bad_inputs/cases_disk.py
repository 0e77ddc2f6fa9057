"""Cases of the group "disk full": the run directory, $TMPDIR or an export on a small tmpfs
(ENOSPC), and a file size limit (RLIMIT_FSIZE via prlimit: EFBIG, another errno).

The run-directory case frees space afterwards (remount with a larger size) and runs
``train --resume`` in its check: the issue asks that --resume works once space is freed.
"""

from __future__ import annotations

from pathlib import Path

from bad_checks import dir_state
from bad_context import Case, Ctx, Plan, Setup, new_case
from bad_leftovers import partial_files, plant
from bad_runner import Result
from bad_runs import finished
from bad_tmpfs import grow, mount, usage

GROUP = "disk full"


def setup_run_dir_full(size: str, epochs: int = 6) -> Setup:
    def setup(ctx: Ctx) -> Plan:
        disk = mount(ctx, ctx.root / "disk", size)
        plant(ctx, disk)
        ctx.notes["disk"] = disk
        return Plan(["train", ctx.config(train={"epochs": epochs}), "--run-dir", "disk/run"])

    return setup


def check_run_dir_full(ctx: Ctx, result: Result) -> str:
    disk = ctx.notes.pop("disk")
    left = dir_state(disk)
    partial = partial_files(ctx)
    full = usage(disk)
    grow(disk, "64m")
    again = ctx.cli(["train", "--resume", "disk/run"], timeout=90)
    return (f"{full}; {left}; partial right after: {partial or 'none'}; after freeing space "
            f"--resume exit {again.exit}: {finished(ctx, disk / 'run')}")


def setup_tmpdir_full(ctx: Ctx) -> Plan:
    disk = mount(ctx, ctx.root / "tmpdisk", "48k")
    plant(ctx, disk)
    ctx.notes["disk"] = disk
    return Plan(["train", ctx.config(), "--run-dir", "run"], env={"TMPDIR": str(disk)})


def _held(ctx: Ctx) -> tuple[Path, list[str]]:
    """The planted small disk and what is on it besides the sentinel."""
    disk = ctx.notes.pop("disk")
    return disk, sorted(p.name for p in disk.iterdir() if p.name != "SENTINEL-keep-me.txt")


def check_tmpdir_full(ctx: Ctx, result: Result) -> str:
    disk, names = _held(ctx)
    if names:
        ctx.flag("leftover", f"left in the full $TMPDIR: {names}")
    return f"$TMPDIR {usage(disk)}, holds {names[:6] or 'nothing else'}; {dir_state(ctx.root)}"


def _small_disk(ctx: Ctx, size: str) -> None:
    """A finished run beside a planted small disk ``disk/`` of ``size``."""
    ctx.finished_run()
    disk = mount(ctx, ctx.root / "disk", size)
    plant(ctx, disk)
    ctx.notes["disk"] = disk


def setup_export_full(ctx: Ctx) -> Plan:
    _small_disk(ctx, "40k")
    return Plan(["export", "run", "--out", "disk/exp"])


def check_export_full(ctx: Ctx, result: Result) -> str:
    disk, names = _held(ctx)
    return f"disk {usage(disk)}, holds {names or 'nothing else'}"


def setup_recommend_full(ctx: Ctx) -> Plan:
    _small_disk(ctx, "16k")
    (ctx.root / "users.txt").write_text("".join(f"{u}\n" for u in range(300)))
    return Plan(["recommend", "run", "--users", "users.txt", "-k", "100", "--out",
                 "disk/recs.parquet"])


def setup_fsize(ctx: Ctx) -> Plan:
    return Plan(["train", ctx.config(), "--run-dir", "run"],
                prefix=["prlimit", "--fsize=60000", "--"])


def check_fsize(ctx: Ctx, result: Result) -> str:
    return dir_state(ctx.root)


DISK_CASES: list[Case] = [
    new_case("disk-full-training", GROUP, setup_run_dir_full("520k"), check_run_dir_full,
             150),
    new_case("disk-full-preparation", GROUP, setup_run_dir_full("96k"), check_run_dir_full,
             150),
    new_case("disk-full-tmpdir", GROUP, setup_tmpdir_full, check_tmpdir_full),
    new_case("disk-full-export", GROUP, setup_export_full, check_export_full),
    new_case("disk-full-recommend-out", GROUP, setup_recommend_full, check_export_full),
    new_case("file-size-limit", GROUP, setup_fsize, check_fsize),
]
