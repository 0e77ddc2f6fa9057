"""``raytrec submit``: check a config here, stage what the job needs, and submit it to a
cluster's Ray job server. The job runs ``raytrec train`` (or ``tune``) on the head node, with
the run directory on storage every node sees."""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raytrec.cluster.jobs import ADDRESS_ENV, JobsError, NotReady, answer, connect, not_ready
from raytrec.cluster.ready import DEFAULT_WAIT_S, Patience
from raytrec.cluster.stage import (
    Staged,
    on_shared,
    runtime_env,
    shared_dirs,
    stage_job,
    stage_wheels,
)
from raytrec.debug import DEBUG_ENV, debugging
from raytrec.errors import RaytrecError
from raytrec.run.ray_setup import RAY_ENV_DEFAULTS, plugin_env
from raytrec.run.uri import check_scheme, is_uri, local_only
from raytrec.tracking.environment import tracking_env

if TYPE_CHECKING:
    from raytrec.config.run_config import RunConfig

JOB_ENV = {
    # Log lines of a job are read through a pipe: unbuffered, tables wide enough not to wrap.
    "PYTHONUNBUFFERED": "1", "COLUMNS": "120",
    # `raytrec jobs stop` is a Ctrl-C to the job's raytrec (its workers stopped, its run
    # directory kept for --resume), with time to finish that before Ray kills it.
    "RAY_JOB_STOP_SIGNAL": "SIGINT", "RAY_JOB_STOP_WAIT_TIME_S": "30",
}


@dataclass
class Request:
    """What to submit: a new run of ``config`` into ``run_dir``, or ``resume`` of one."""

    config: str | None
    overrides: list[str]
    run_dir: str | None
    resume: str | None
    tune: bool
    overwrite: bool
    shared: list[str]
    include: list[str]
    cluster_has: list[str]


@dataclass
class Submitted:
    job_id: str
    address: str
    run_dir: str
    entrypoint: str
    staged_bytes: int
    wheels: list[str]
    copied: dict[str, str]
    referenced: dict[str, str]


def cluster_path(flag: str, value: str, tune: bool = False) -> str:
    """A run directory as every node names it: an absolute path, or a URI of a store
    (``raytrec.run.mirror``; not for a search, which keeps to a path)."""
    if is_uri(value):
        check_scheme(flag, value)
        if tune:
            local_only(value, flag)
        return value.rstrip("/")
    if "://" in value:
        raise RaytrecError(f"{flag} {value}: give an absolute path on shared storage or a URI "
                           "(s3://, gs://, file://)")
    if not os.path.isabs(value):
        raise RaytrecError(f"{flag} {value} is relative: the job runs in a temporary folder "
                           "on the head node, which is deleted with it; give an absolute "
                           "path on storage every node sees (e.g. /mnt/raytrec/runs/NAME), "
                           "or a URI (s3://, gs://)")
    return os.path.normpath(value)


def entrypoint(request: Request, run_dir: str) -> str:
    command = "tune" if request.tune else "train"
    words = ["python", "-m", "raytrec.cli.main", *(["--debug"] if debugging() else []),
             command]
    if request.resume:
        words += ["--resume", run_dir]
    else:
        words += ["config.yaml", "--run-dir", run_dir, *(["--overwrite"] if request.overwrite
                                                         else [])]
    return shlex.join(words)


def check_locally(request: Request, address: str) -> bool:
    """The checks ``raytrec train`` (or ``tune``) makes before it creates a run directory,
    with the same messages; the data is prepared in a temporary folder and dropped. The
    memory check is left to the cluster, whose nodes are not this machine. Data that the
    run prepares on the cluster (``prepare.engine``: ``ray``, or ``auto`` choosing it) is
    not prepared here: its files are checked as the driver checks them before Ray starts,
    and the rest is checked on the cluster. Returns whether the data was prepared here."""
    from raytrec.plugins import get_registry
    from raytrec.run.job import cluster_files, create_job
    from raytrec.tune.search import create_search

    config, registry = _run_config(request), get_registry()
    if cluster_files(config, registry.build("dataset", config.data),
                     registry.build("task", config.task)):
        return False
    create = create_search if request.tune else create_job
    with _address(address), tempfile.TemporaryDirectory(prefix="raytrec-check-") as tmp:
        create(request.config, request.overrides, Path(tmp) / "check", False)
    return True


def _run_config(request: Request) -> RunConfig:
    from raytrec.run.job import resolve_config
    from raytrec.tune.plan import load_plan

    if request.tune:
        return load_plan(request.config, request.overrides).base
    return resolve_config(request.config, request.overrides)


def check_schema(request: Request) -> None:
    """The config's keys, components and arguments, without its data."""
    from raytrec.run.job import resolve_config
    from raytrec.tune.plan import load_plan

    if request.tune:
        load_plan(request.config, request.overrides)
    else:
        resolve_config(request.config, request.overrides)


def submit(request: Request, address: str | None, say: Callable[[str], None],
           patience: Patience | None = None) -> Submitted:
    """``patience``: how long to wait for a cluster that has just started (default
    ``DEFAULT_WAIT_S``, told through ``say``)."""
    if bool(request.config) == bool(request.resume):
        raise RaytrecError("give either a CONFIG to submit or --resume RUN_DIR, not both or "
                           "neither")
    if request.resume and (request.overrides or request.run_dir):
        raise RaytrecError("--resume continues a run as it was configured; it takes no --set "
                           "or --run-dir")
    if request.config and not request.run_dir:
        raise RaytrecError("a submitted run needs --run-dir: an absolute path on storage every "
                           "node of the cluster sees (the job's own folder is deleted with it)")
    run_dir = cluster_path("--resume" if request.resume else "--run-dir",
                           request.resume or request.run_dir or "", request.tune)
    shared = shared_dirs(request.shared)
    if request.config:
        check_schema(request)
    patience = patience or Patience(DEFAULT_WAIT_S, say)
    client = patience.call(lambda: connect(address))
    url = client.get_address()
    node_path = run_dir.removeprefix("file://")  # a path on each node, or a store's URI
    if not is_uri(node_path) and not on_shared(node_path, shared):
        say(f"warning: {run_dir} is not under a --shared directory: on a cluster of several "
            "nodes the workers write checkpoints there and read the prepared data from it, so "
            "it must be storage every node sees at that path (fine on one node)")
    with _staging() as folder:
        staged = _stage(request, folder, shared)
        if request.config:
            if staged.missing or any(not Path(p).exists() for p in staged.referenced.values()
                                     if "://" not in p):
                say("note: some data is not readable here; its checks run on the cluster")
            elif not check_locally(request, url):
                say("note: the data is prepared on the cluster (prepare.engine); its files "
                    "were checked here, the rest is checked there")
        size = staged.size
        say(f"staged {size / 1024**2:.2f} MiB for the job: " + ", ".join(
            [Path(w).name for w in staged.wheels] + [f"{k} ({v})" for k, v in
                                                     staged.copied.items()]))
        command = entrypoint(request, run_dir)
        job_id = _submit(client, request, staged, command, run_dir, patience)
    return Submitted(job_id, url, run_dir, command, size, staged.wheels, staged.copied,
                     staged.referenced)


def _stage(request: Request, folder: Path, shared: list[Path]) -> Staged:
    if request.config:
        return stage_job(request.config, request.overrides, folder, shared, request.include,
                         request.cluster_has)
    # A resumed run reads its own config on the cluster: only the wheels go, of what that
    # config names when this machine can read it, else of every installed plugin.
    from raytrec.config import read_yaml
    from raytrec.tune.search import PLAN_FILE

    path = Path(request.resume or "") / (PLAN_FILE if request.tune else "config.yaml")
    config = read_yaml(path, "run config") if path.is_file() else None
    return stage_wheels(folder, request.include, request.cluster_has, config)


def job_env(request: Request) -> dict[str, str]:
    """The job's environment variables: Ray's and raytrec's settings, the plugin selection,
    and what its tracking backend reads (``raytrec.tracking.environment``)."""
    from raytrec.config import read_yaml
    from raytrec.config.load import read_config
    from raytrec.tune.search import PLAN_FILE

    if request.config:
        config: dict[str, Any] | None = read_config(request.config, request.overrides)
    else:
        path = Path(request.resume or "") / (PLAN_FILE if request.tune else "config.yaml")
        config = read_yaml(path, "run config") if path.is_file() else None
    return {**RAY_ENV_DEFAULTS, **plugin_env(), **JOB_ENV, **tracking_env(config),
            **({DEBUG_ENV: "1"} if debugging() else {})}


def _submit(client: Any, request: Request, staged: Staged, command: str, run_dir: str,
            patience: Patience) -> str:
    stem = Path(request.config or run_dir).stem
    job_id = f"raytrec-{stem}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    env = job_env(request)
    metadata = {"raytrec": "tune" if request.tune else "train", "run_dir": run_dir,
                "config": str(request.config or request.resume)}
    # The same id each time: an answer that is not ready created no job. The runtime_env is
    # made anew, as Ray's client puts the uploaded package's URI into the one it gets.
    return patience.call(lambda: _send(client, job_id, command, runtime_env(staged, env),
                                       metadata))


def _send(client: Any, job_id: str, command: str, environment: dict[str, Any],
          metadata: dict[str, str]) -> str:
    address = client.get_address()
    try:
        return client.submit_job(entrypoint=command, submission_id=job_id,
                                 runtime_env=environment, metadata=metadata)
    except Exception as exc:  # Ray's client: RuntimeError with the answer, ValueError of a
        reason = not_ready(exc)  # runtime_env, requests' OSErrors
        if reason:
            raise NotReady(f"the job server at {address} did not take the job: {reason}",
                           address, reason) from None
        raise JobsError(f"the job server at {address} refused the job: "
                        f"{answer(exc)}") from exc


@contextmanager
def _staging() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="raytrec-job-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _address(address: str) -> Iterator[None]:
    """While checking: the run is for a cluster (``raytrec.run.job`` leaves memory to it)."""
    old = os.environ.get(ADDRESS_ENV)
    os.environ[ADDRESS_ENV] = address
    try:
        yield
    finally:
        if old is None:
            del os.environ[ADDRESS_ENV]
        else:
            os.environ[ADDRESS_ENV] = old

