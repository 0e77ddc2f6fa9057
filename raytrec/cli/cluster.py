"""``raytrec submit`` and ``raytrec jobs``: runs on a Ray cluster, through its job server."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from raytrec.errors import RaytrecError

EXIT = {"SUCCEEDED": 0, "FAILED": 1, "STOPPED": 1}
# What is not the command's output (waiting for a cluster) goes to stderr.
err_console = Console(stderr=True)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    submit = sub.add_parser("submit", help="run a training (or a search) on a Ray cluster")
    submit.add_argument("config", nargs="?", help="YAML config (omit with --resume)")
    _address(submit)
    submit.add_argument("--tune", action="store_true", help="run `raytrec tune` (a search "
                        "file) instead of `raytrec train`")
    submit.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a config key")
    submit.add_argument("--run-dir", help="run directory as the cluster's nodes see it: an "
                        "absolute path on shared storage, or a URI: s3://, gs://, file://")
    submit.add_argument("--overwrite", action="store_true", help="replace an earlier run "
                        "made by raytrec in --run-dir")
    submit.add_argument("--resume", metavar="RUN_DIR", help="continue a run on the cluster "
                        "(after its job's driver was lost)")
    submit.add_argument("--wait", action="store_true", help="follow the job's logs and exit "
                        "with its status")
    submit.add_argument("--wait-for-cluster", type=_seconds, default=120.0, metavar="SECONDS",
                        help="how long to wait for a cluster that is still starting (its "
                        "dashboard refuses connections, or its job server has no agent yet), "
                        "asking again every few seconds (default 120; 0 does not wait)")
    submit.add_argument("--shared", action="append", default=[], metavar="DIR",
                        help="a directory on storage every node sees at the same path: files "
                        "under it are referenced, not copied (also $RAYTREC_SHARED_STORAGE)")
    submit.add_argument("--include", action="append", default=[], metavar="PATH",
                        help="also ship this file or directory with the job")
    submit.add_argument("--cluster-has", action="append", default=[], metavar="DIST",
                        help="a plugin distribution installed on the cluster's nodes, not "
                        "to be shipped")

    jobs = sub.add_parser("jobs", help="list, follow and stop jobs on a Ray cluster")
    verbs = jobs.add_subparsers(dest="verb", required=True)
    _address(verbs.add_parser("list", help="every job of the cluster"))
    for verb, text in (("status", "a job's status"), ("logs", "a job's output"),
                       ("stop", "stop a running job")):
        parser = verbs.add_parser(verb, help=text)
        parser.add_argument("job_id", metavar="JOB")
        _address(parser)
        if verb == "logs":
            parser.add_argument("--follow", action="store_true", help="until the job ends")
        if verb == "status":
            parser.add_argument("--json", action="store_true", help="print JSON")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError("give a number of seconds, 0 or more")
    return value


def _address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", help="the cluster's job server, e.g. "
                        "http://127.0.0.1:8265 (default $RAY_ADDRESS)")


def submit(args: argparse.Namespace, console: Console) -> int:
    from raytrec.cluster.jobs import connect, wait_until_done
    from raytrec.cluster.ready import Patience
    from raytrec.cluster.submit import Request
    from raytrec.cluster.submit import submit as send

    request = Request(args.config, args.overrides, args.run_dir, args.resume, args.tune,
                      args.overwrite, args.shared, args.include, args.cluster_has)
    patience = Patience(args.wait_for_cluster, lambda line: err_console.print(
        f"raytrec: {line}", markup=False, highlight=False, soft_wrap=True))
    done = send(request, args.address, lambda line: console.print(line, soft_wrap=True),
                patience)
    console.print(f"submitted job {done.job_id} to {done.address}; run directory "
                  f"{done.run_dir}", soft_wrap=True)
    if not args.wait:
        console.print(f"follow it with: raytrec jobs logs {done.job_id} --follow --address "
                      f"{done.address}", soft_wrap=True)
        return 0
    client = connect(done.address)
    _follow(client, done.job_id)
    status = wait_until_done(client, done.job_id, 30.0)
    console.print(f"job {done.job_id}: {status}")
    return EXIT.get(status, 1)


def _follow(client: object, job_id: str) -> None:
    from raytrec.cluster.jobs import follow

    try:
        follow(client, job_id, lambda chunk: (sys.stdout.write(chunk), sys.stdout.flush()))
    except KeyboardInterrupt:
        raise RaytrecError(f"stopped following; job {job_id} keeps running (raytrec jobs stop "
                           f"{job_id} ends it)") from None


def jobs(args: argparse.Namespace, console: Console) -> int:
    from raytrec.cluster.jobs import asking, check_job_id, connect, describe, job_info

    if args.verb != "list":
        check_job_id(args.job_id)  # before the cluster is asked
    client = connect(args.address)
    if args.verb == "list":
        with asking(client, "listing the jobs"):
            infos = sorted(client.list_jobs(), key=lambda i: i.start_time or 0)
        console.print(_jobs_table(client.get_address(), [describe(i) for i in infos]))
        return 0
    info = job_info(client, args.job_id)
    if args.verb == "status":
        _status(args, console, info)
    elif args.verb == "logs":
        _logs(args, client)
    else:
        _stop(args, console, client, info)
    return 0


def _status(args: argparse.Namespace, console: Console, info: Any) -> None:
    from raytrec.cluster.jobs import as_json, describe

    if args.json:
        print(as_json(info))
        return
    row = describe(info)
    console.print(f"{row['job']}: {row['status']}"
                  + (f" ({row['message']})" if row["message"] else ""), soft_wrap=True)
    if row["run_dir"]:
        console.print(f"run directory: {row['run_dir']}", soft_wrap=True)


def _logs(args: argparse.Namespace, client: Any) -> None:
    from raytrec.cluster.jobs import asking

    if args.follow:
        _follow(client, args.job_id)
        return
    with asking(client, f"reading the logs of job {args.job_id!r}"):
        text = client.get_job_logs(args.job_id)
    sys.stdout.write(text)


def _stop(args: argparse.Namespace, console: Console, client: Any, info: Any) -> None:
    from raytrec.cluster.jobs import STOP_TIMEOUT_S, asking, wait_until_done

    if str(info.status) in EXIT:
        console.print(f"job {args.job_id} already ended: {info.status}")
        return
    with asking(client, f"stopping job {args.job_id!r}"):
        client.stop_job(args.job_id)
    status = wait_until_done(client, args.job_id, STOP_TIMEOUT_S)
    if status not in EXIT:
        raise RaytrecError(f"job {args.job_id} was asked to stop but is still {status} after "
                           f"{STOP_TIMEOUT_S:g} s; check it with raytrec jobs status "
                           f"{args.job_id}")
    console.print(f"job {args.job_id}: {status}")


def _jobs_table(address: str, rows: list[dict]) -> Table:
    table = Table(title=f"jobs on {address}")
    table.add_column("job", no_wrap=True)
    for column in ("status", "kind", "started", "seconds", "run directory"):
        table.add_column(column, justify="right" if column == "seconds" else "left",
                         overflow="fold")
    for row in rows:
        table.add_row(row["job"], row["status"], row["kind"], row["started"],
                      "" if row["seconds"] is None else f"{row['seconds']:.0f}", row["run_dir"])
    return table
