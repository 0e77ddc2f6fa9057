"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/bad_inputs [--pythonpath DIR]
    [--engine ray] [--only ID,ID] [--out FILE.jsonl]
    (or: .venv/bin/python benchmarks/bad_inputs --compare BEFORE.jsonl AFTER.jsonl)

How the ``raytrec`` command line copes with bad inputs: a fixed list of cases (data loss,
hangs, non-finite numbers, corrupt files, silent changes), each run as a subprocess in a fresh
temporary directory. One JSON object per case on stdout (and in ``--out``), logs on stderr:

- ``exit``: the exit code, or ``"timeout"`` when the case's timeout killed it;
- ``seconds``: wall time of the command;
- ``message``: the first non-empty line of stderr (for ``raytrec: N problems in ...`` with the
  indented problem lines after it), or ``traceback: <its last line>`` when stderr holds a
  Python traceback (``traceback`` says whether one was shown);
- ``files``: what the case's own check found on disk afterwards (a file deleted or intact, a
  run directory left behind, the dtype of an id column, ...);
- ``sentinels``, ``leftovers``: the sentinel files of the new cases, and partial files under
  the case directory or temp folders left in its own ``$TMPDIR`` (bad_leftovers);
- ``verdict`` and ``flags``: hang / traceback / data loss / silent / leftover / ok, and why
  (bad_verdict); ``--compare`` counts them per column under the table.

Every command gets ``TMPDIR`` (a folder beside the case directory) and ``RAY_TMPDIR`` (a short
one: Ray's socket paths must stay under 108 bytes) of its own. The new cases (locks, partial
files, signals, disk full, paths, sizes, data files, exports and resume) plant a sentinel
file in every folder raytrec is pointed at, and may start a background raytrec command
(bad_background) whose process group is always killed at the end of the case.

``--pythonpath DIR`` puts DIR first on every subprocess's PYTHONPATH (``/tmp/old`` runs an
old checkout); without it PYTHONPATH is unset and the installed ``raytrec`` runs.
``--engine ray`` makes ``prepare.engine: auto`` choose Ray Data for every csv or parquet
dataset, whatever its size (a ``sitecustomize`` in ``engine_ray/`` put first on
PYTHONPATH), so that the cases on data files go through the ``ray`` engine. With
``--only`` and an existing ``--out`` file the new records replace those of the same ids.

``--compare BEFORE.jsonl AFTER.jsonl`` prints a Markdown table of two such runs.

Every command runs as ``python -m raytrec.cli.main ...`` in its own session with
RAY_AUTH_MODE=disabled and RAY_USAGE_STATS_ENABLED=0; on timeout its whole process group is
killed. Some cases start Ray (``scaling.num_workers`` >= 1, ``tune``); the rest train a tiny
synthetic model in-process in a few seconds.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from bad_compare import compare, read_jsonl
from bad_context import Case, Ctx, Plan, SetupError
from bad_leftovers import leftovers, plant, sentinels
from bad_runner import TRACEBACK, Result, message, run_command
from bad_verdict import output_flags, verdict
from cases_corrupt import CORRUPT_CASES
from cases_data_loss import DATA_LOSS_CASES
from cases_disk import DISK_CASES
from cases_hangs import HANG_CASES
from cases_inputs import INPUT_CASES
from cases_locks import LOCK_CASES
from cases_non_finite import NON_FINITE_CASES
from cases_partial import PARTIAL_CASES
from cases_paths import PATH_CASES
from cases_serving import SERVING_CASES
from cases_signals import SIGNAL_CASES
from cases_silent import SILENT_CASES
from cases_sizes import SIZE_CASES

logger = logging.getLogger("benchmarks.bad_inputs")

CASES: list[Case] = [*DATA_LOSS_CASES, *HANG_CASES, *NON_FINITE_CASES, *CORRUPT_CASES,
                     *SILENT_CASES]
# The classes of the one-writer / partial-files / signals issue (2026-12-05).
NEW_CASES: list[Case] = [*LOCK_CASES, *PARTIAL_CASES, *SIGNAL_CASES, *DISK_CASES,
                         *PATH_CASES, *SIZE_CASES, *INPUT_CASES, *SERVING_CASES]
CASES += NEW_CASES


# --- running cases -------------------------------------------------------------------------

def run_case(case: Case, python: str, pythonpath: str | None) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"bad-inputs-{case.id}-"))
    ctx = Ctx(root, python, pythonpath, tmp=Path(f"{root}.tmp"),
              ray_tmp=Path(tempfile.mkdtemp(prefix="rb-", dir="/tmp")))
    assert ctx.tmp is not None
    ctx.tmp.mkdir()
    record: dict[str, Any] = {"id": case.id, "group": case.group, "pythonpath": pythonpath}
    try:
        if case.sentinel:
            plant(ctx, root)
        try:
            plan = case.setup(ctx)
        except (SetupError, OSError) as exc:
            logger.error("%s: setup failed: %s", case.id, exc)
            return {**record, "exit": None, "seconds": None, "message": "",
                    "traceback": False, "files": "", "setup_error": str(exc)}
        result = run_command(plan.prefix + ctx.command(plan.argv), plan.cwd or root,
                             ctx.env(plan.env), case.timeout, case.signals, root)
        record.update(measured(case, ctx, plan, result))
        return record
    finally:
        for cleanup in reversed(ctx.cleanups):  # background groups, tmpfs mounts
            try:
                cleanup()
            except Exception as exc:
                logger.error("%s: cleanup failed: %s", case.id, exc)
        for path in (root, ctx.tmp, ctx.ray_tmp):
            shutil.rmtree(path, ignore_errors=True)


def measured(case: Case, ctx: Ctx, plan: Plan, result: Result) -> dict[str, Any]:
    """The record's fields for the measured command, its check and the verdict."""
    try:
        files = case.check(ctx, result)
    except Exception as exc:  # a check must not lose the run's record
        files = f"check failed: {type(exc).__name__}: {exc}"
    flags = output_flags(result)
    kept = sentinels(ctx) if case.sentinel else ""
    left = leftovers(ctx)
    flags.update({k: v for k, v in ctx.flags.items() if k not in flags})
    return {
        "argv": plan.argv,
        "env": plan.env,
        "exit": "timeout" if result.timed_out else result.exit,
        "seconds": result.seconds,
        "message": message(result.stderr),
        "traceback": TRACEBACK in result.stderr,
        "files": files,
        "sentinels": kept,
        "leftovers": left,
        "verdict": verdict(flags),
        "flags": flags,
        "signals_sent": result.signals_sent,
        "exit_after_first_signal": result.exit_after_first_signal,
        "stdout_head": result.stdout.splitlines()[:5],
        "stderr_tail": result.stderr.splitlines()[-8:],
    }


def write_records(path: Path, records: dict[str, dict[str, Any]]) -> None:
    order = {case.id: i for i, case in enumerate(CASES)}
    rows = sorted(records.values(), key=lambda r: order.get(r["id"], len(order)))
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def run(args: argparse.Namespace) -> int:
    cases = CASES
    if args.only:
        wanted = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = sorted(set(wanted) - {c.id for c in CASES})
        if unknown:
            logger.error("unknown case ids: %s", ", ".join(unknown))
            return 2
        cases = [c for c in CASES if c.id in wanted]
    out = Path(args.out) if args.out else None
    records: dict[str, dict[str, Any]] = {}
    if out is not None and args.only and out.is_file():
        records = {r["id"]: r for r in read_jsonl(out)}
    for i, case in enumerate(cases, 1):
        logger.info("[%d/%d] %s ...", i, len(cases), case.id)
        record = run_case(case, args.python, args.pythonpath)
        logger.info("[%d/%d] %s: exit %s in %s s: %s | %s", i, len(cases), case.id,
                    record["exit"], record["seconds"], record["message"][:100],
                    record["files"][:100])
        print(json.dumps(record), flush=True)
        records[case.id] = record
        if out is not None:
            write_records(out, records)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="raytrec against bad inputs, before/after")
    parser.add_argument("--pythonpath", help="PYTHONPATH of every subprocess (an old checkout)")
    parser.add_argument("--engine", choices=["ray"],
                        help="prepare every case's data with this engine (default: as "
                             "configured, auto)")
    parser.add_argument("--only", help="comma-separated case ids")
    parser.add_argument("--out", help="also write the JSON lines here")
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs raytrec")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"),
                        help="print a Markdown table of two JSONL files instead of running")
    args = parser.parse_args()
    # Started in the background (nohup, `&` in a script) this process ignores SIGINT and
    # SIGHUP, and every command would inherit that: Ctrl-C and hang-up cases would measure
    # nothing. Handlers set to a function are reset to the default at exec.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.compare:
        print(compare(Path(args.compare[0]), Path(args.compare[1]),
                      [c.id for c in CASES]))
        return 0
    if args.engine:
        here = str(Path(__file__).resolve().parent / f"engine_{args.engine}")
        args.pythonpath = ":".join(p for p in (here, args.pythonpath) if p)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
