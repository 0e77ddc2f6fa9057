"""``raytrec`` command line: train, tune, evaluate, export, recommend, submit, jobs,
plugins."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from raytrec import interrupts
from raytrec.cli import cluster
from raytrec.debug import DEBUG_ENV
from raytrec.disk import FULL, full
from raytrec.errors import Interrupted, RaytrecError

console = Console()
err_console = Console(stderr=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="raytrec", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a model from a YAML config")
    train.add_argument("config", nargs="?", help="YAML config (omit with --resume)")
    train.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help="override a config key, e.g. loss.margin=0.3")
    train.add_argument("--run-dir", help="output directory (default runs/<config>-<time>), or "
                       "a URI: s3://, gs://, file://")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run dir")
    train.add_argument("--resume", metavar="RUN_DIR",
                       help="continue an interrupted run (--set may then change only where it "
                       "runs: scaling.num_workers, scaling.cpus_per_worker, scaling.use_gpu, "
                       "train.sharding, train.threads)")

    ev = sub.add_parser("evaluate", help="re-score a finished run")
    ev.add_argument("run_dir")
    ev.add_argument("--set", dest="overrides", action="append", default=[],
                    metavar="KEY=VALUE", help="e.g. eval.ks=[10,50] or retriever.name=...")
    ev.add_argument("--retriever", metavar="NAME", help="score through this index (its options "
                    "with --set retriever.KEY=VALUE); an approximate one is compared with "
                    "exact search")
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")

    export = sub.add_parser("export", help="write what serving a finished run needs")
    export.add_argument("run_dir")
    export.add_argument("--out", required=True, help="export directory (created)")
    export.add_argument("--retriever", metavar="NAME", help="index to build (default: the "
                        "run's); options with --set retriever.KEY=VALUE")
    export.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="e.g. retriever.ef_search=128")
    export.add_argument("--overwrite", action="store_true", help="replace an earlier export")

    rec = sub.add_parser("recommend", help="top-k items for users of a run or an export")
    rec.add_argument("source", metavar="RUN_DIR|EXPORT_DIR")
    who = rec.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", metavar="ID", help="one user's original id")
    who.add_argument("--users", metavar="FILE", help="parquet/CSV with a 'user' column, or "
                     "one id per line; writes --out")
    rec.add_argument("-k", type=int, default=10, help="items per user (default 10)")
    rec.add_argument("--include-seen", action="store_true",
                     help="also recommend items the user saw in training")
    rec.add_argument("--out", help="with --users: the parquet file to write (must not exist)")
    rec.add_argument("--json", action="store_true", help="with --user: print JSON")
    rec.add_argument("--user-features", metavar="FILE", help="parquet/CSV: a 'user' column "
                     "and user feature columns; users outside the run are served from them "
                     "by the run's mapper (two-tower with user_features; a run directory)")

    search = sub.add_parser("tune", help="search hyperparameters with Ray Tune")
    search.add_argument("config", nargs="?", help="YAML config with a search: section "
                        "(omit with --resume)")
    search.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a key, e.g. tune.num_samples=8")
    search.add_argument("--run-dir", help="output directory (default runs/<config>-<time>)")
    search.add_argument("--overwrite", action="store_true", help="replace an existing dir")
    search.add_argument("--resume", metavar="TUNE_DIR", help="continue an interrupted search")

    cluster.add_parsers(sub)

    plugins = sub.add_parser("plugins", help="list every registered component")
    plugins.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.argv = argv  # as typed: who holds a run directory's lock (raytrec.cli.writing)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.debug:
        os.environ[DEBUG_ENV] = "1"
    from raytrec.cli import commands

    handler = {"train": commands.train, "tune": commands.tune, "evaluate": commands.evaluate,
               "export": commands.export, "recommend": commands.recommend,
               "plugins": commands.plugins, "submit": cluster.submit,
               "jobs": cluster.jobs}[args.command]
    try:
        with interrupts.handled():
            return handler(args, console)
    except OSError as exc:
        if exc.errno not in FULL or args.debug:
            raise
        # A full disk where no write site said more.
        kept = "nothing that was complete was replaced; free some space and run the command again"
        _say(full(Path(exc.filename), None, kept) if exc.filename else
             RaytrecError(f"no space left on a device raytrec writes to ({exc}); {kept}"))
        return 2
    except Interrupted as exc:
        _say(exc)
        return 130
    except RaytrecError as exc:
        if args.debug:
            if getattr(exc, "details", ""):  # the traceback of the worker that failed
                err_console.print(exc.details, markup=False, highlight=False)
            raise
        _say(exc)
        return 2
    except (KeyboardInterrupt, SystemExit):
        # Before a run directory exists (or in evaluate): nothing was written.
        err_console.print("raytrec: interrupted before anything was written")
        return 130


def _say(exc: BaseException) -> None:
    notes = "".join(f"; {n}" for n in getattr(exc, "__notes__", ()))
    err_console.print(f"raytrec: {exc}{notes}", markup=False, highlight=False, soft_wrap=True)


def run() -> None:
    """The ``raytrec`` command: ``main``, then the clean-up at exit (Ray's shutdown), which a
    late signal does not cut short."""
    code = main()
    interrupts.settle()
    sys.exit(code)


if __name__ == "__main__":
    run()
