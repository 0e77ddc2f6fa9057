"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/bad_inputs [--pythonpath DIR]
    [--only ID,ID] [--out FILE.jsonl]
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
  run directory left behind, the dtype of an id column, ...).

``--pythonpath DIR`` puts DIR first on every subprocess's PYTHONPATH (``/tmp/old`` runs an
old checkout); without it PYTHONPATH is unset and the installed ``raytrec`` runs. With
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
import sys
import tempfile
from pathlib import Path
from typing import Any

from bad_context import Case, Ctx, SetupError
from bad_runner import TRACEBACK, message, run_command
from cases_corrupt import CORRUPT_CASES
from cases_data_loss import DATA_LOSS_CASES
from cases_hangs import HANG_CASES
from cases_non_finite import NON_FINITE_CASES
from cases_silent import SILENT_CASES

logger = logging.getLogger("benchmarks.bad_inputs")

CASES: list[Case] = [*DATA_LOSS_CASES, *HANG_CASES, *NON_FINITE_CASES, *CORRUPT_CASES,
                     *SILENT_CASES]


# --- running cases -------------------------------------------------------------------------

def run_case(case: Case, python: str, pythonpath: str | None) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"bad-inputs-{case.id}-"))
    ctx = Ctx(root, python, pythonpath)
    record: dict[str, Any] = {"id": case.id, "group": case.group, "pythonpath": pythonpath}
    try:
        try:
            plan = case.setup(ctx)
        except (SetupError, OSError) as exc:
            logger.error("%s: setup failed: %s", case.id, exc)
            return {**record, "exit": None, "seconds": None, "message": "",
                    "traceback": False, "files": "", "setup_error": str(exc)}
        env = ctx.env(plan.env)
        result = run_command(ctx.command(plan.argv), plan.cwd or root, env, case.timeout,
                             case.signals, root)
        try:
            files = case.check(ctx, result)
        except Exception as exc:  # a check must not lose the run's record
            files = f"check failed: {type(exc).__name__}: {exc}"
        record.update({
            "argv": plan.argv,
            "env": plan.env,
            "exit": "timeout" if result.timed_out else result.exit,
            "seconds": result.seconds,
            "message": message(result.stderr),
            "traceback": TRACEBACK in result.stderr,
            "files": files,
            "signals_sent": result.signals_sent,
            "exit_after_first_signal": result.exit_after_first_signal,
            "stdout_head": result.stdout.splitlines()[:5],
            "stderr_tail": result.stderr.splitlines()[-8:],
        })
        return record
    finally:
        shutil.rmtree(root, ignore_errors=True)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


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


# --- the before/after table ----------------------------------------------------------------

def cell(record: dict[str, Any] | None, width: int = 110) -> str:
    if record is None:
        return "–"
    if record.get("setup_error"):
        return f"setup failed: {record['setup_error'][:width]}"
    text = str(record.get("message", ""))
    text = text if len(text) <= width else text[: width - 1] + "…"
    parts = [f"exit {record['exit']} ({record['seconds']} s)", f"`{text}`" if text else "–",
             str(record.get("files", ""))]
    return "; ".join(parts).replace("|", "\\|").replace("\n", " ")


def compare(before_path: Path, after_path: Path) -> str:
    before = {r["id"]: r for r in read_jsonl(before_path)}
    after = {r["id"]: r for r in read_jsonl(after_path)}
    ids = [c.id for c in CASES if c.id in before or c.id in after]
    ids += sorted((set(before) | set(after)) - set(ids))
    lines = ["| case | group | before (exit, message, files) | after (exit, message, files) |",
             "| --- | --- | --- | --- |"]
    for case_id in ids:
        group = (before.get(case_id) or after.get(case_id) or {}).get("group", "")
        lines.append(f"| {case_id} | {group} | {cell(before.get(case_id))} | "
                     f"{cell(after.get(case_id))} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="raytrec against bad inputs, before/after")
    parser.add_argument("--pythonpath", help="PYTHONPATH of every subprocess (an old checkout)")
    parser.add_argument("--only", help="comma-separated case ids")
    parser.add_argument("--out", help="also write the JSON lines here")
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs raytrec")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"),
                        help="print a Markdown table of two JSONL files instead of running")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.compare:
        print(compare(Path(args.compare[0]), Path(args.compare[1])))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
