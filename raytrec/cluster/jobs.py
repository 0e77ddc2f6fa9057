"""The Ray job server of a cluster (``JobSubmissionClient``), reached with a bounded wait: an
address that does not answer is an error within seconds, an unknown job id one clear line."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from raytrec.debug import debugging
from raytrec.errors import RaytrecError

ADDRESS_ENV = "RAY_ADDRESS"
CONNECT_TIMEOUT_S = 5.0
# How long `jobs stop` waits for the job to end after asking it to.
STOP_TIMEOUT_S = 60.0
TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")
# Ray's job client modules that set their loggers to INFO themselves.
CLIENT_LOGGERS = ("ray.dashboard.modules.dashboard_sdk", "ray.dashboard.modules.job.sdk",
                  "ray._private.runtime_env.packaging")


class JobsError(RaytrecError):
    """The job server cannot be reached, or refused a request."""


def server_address(address: str | None) -> str:
    """``--address``, else ``$RAY_ADDRESS``, as an http(s) URL."""
    address = address or os.environ.get(ADDRESS_ENV)
    if not address:
        raise JobsError("no cluster given: pass --address http://HEAD:8265 (the dashboard of "
                        f"the cluster's head node) or set {ADDRESS_ENV}")
    if "://" not in address:
        address = f"http://{address}"
    if not address.startswith(("http://", "https://")):
        raise JobsError(f"--address {address}: the job server is reached over http(s), e.g. "
                        "http://127.0.0.1:8265")
    return address.rstrip("/")


def connect(address: str | None) -> Any:
    """A ``JobSubmissionClient`` of a server that answered within ``CONNECT_TIMEOUT_S``."""
    url = server_address(address)
    try:
        with urllib.request.urlopen(f"{url}/api/version", timeout=CONNECT_TIMEOUT_S):
            pass
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise JobsError(f"{url} answers HTTP 404 to /api/version: it is not a Ray job "
                            "server; give the dashboard address of the head node, e.g. "
                            "http://HEAD:8265") from None
        if exc.code not in (401, 403):  # token authentication: the client sends the token
            raise JobsError(f"the Ray job server at {url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise JobsError(f"cannot reach the Ray job server at {url} within "
                        f"{CONNECT_TIMEOUT_S:g} s ({reason}); is the cluster up (ray up "
                        "cluster.yaml) and its dashboard forwarded (ray dashboard "
                        "cluster.yaml)? check --address") from None
    from ray.job_submission import JobSubmissionClient

    if not debugging():  # Ray's client logs each upload and websocket at INFO
        for name in ("ray", *CLIENT_LOGGERS):
            logging.getLogger(name).setLevel(logging.WARNING)
    try:
        return JobSubmissionClient(url)
    except (ConnectionError, RuntimeError) as exc:
        raise JobsError(f"the Ray job server at {url}: {exc}") from None


def job_info(client: Any, job_id: str) -> Any:
    try:
        return client.get_job_info(job_id)
    except RuntimeError as exc:
        if "404" in str(exc) or "does not exist" in str(exc):
            raise JobsError(f"no job {job_id!r} on {client.get_address()}; raytrec jobs list "
                            "shows the jobs there") from None
        raise JobsError(f"{client.get_address()}: {exc}") from None


def wait_until_done(client: Any, job_id: str, timeout_s: float) -> str:
    """The job's status once it is terminal, or its status after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    status = str(job_info(client, job_id).status)
    while status not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.5)
        status = str(job_info(client, job_id).status)
    return status


def follow(client: Any, job_id: str, write: Callable[[str], None]) -> None:
    """Write the job's logs as they come, until it ends (Ctrl-C stops following only)."""
    job_info(client, job_id)  # an unknown id is one line, not a websocket error

    async def tail() -> None:
        async for chunk in client.tail_job_logs(job_id):
            write(chunk)

    try:
        asyncio.run(tail())
    except RuntimeError as exc:
        raise JobsError(f"lost the log stream of job {job_id}: {exc}; raytrec jobs logs "
                        f"{job_id} --follow picks it up again") from None


def describe(info: Any) -> dict[str, Any]:
    """What ``jobs list`` and ``jobs status`` show of a job."""
    metadata = info.metadata or {}
    start, end = info.start_time, info.end_time
    return {"job": info.submission_id or info.job_id, "status": str(info.status),
            "kind": metadata.get("raytrec", ""), "run_dir": metadata.get("run_dir", ""),
            "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(start / 1000))
            if start else "",
            "seconds": round(((end or time.time() * 1000) - start) / 1000, 1) if start else None,
            "message": info.message or "", "entrypoint": info.entrypoint}


def as_json(info: Any) -> str:
    return json.dumps(describe(info), indent=2)
