"""The Ray job server of a cluster (``JobSubmissionClient``), reached with a bounded wait: an
address that does not answer is an error within seconds, an unknown job id one clear line, and
whatever else Ray's client raises one raytrec message (``asking``). A cluster that is still
starting says so with ``NotReady``, which ``raytrec.cluster.ready`` asks again on."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from raytrec.debug import debugging
from raytrec.errors import RaytrecError

ADDRESS_ENV = "RAY_ADDRESS"
# Ray's job server answers HTTP 500 with this until the head's job agent has registered,
# 30-60 s after `ray start --head`; a gateway before a dashboard not up yet, 502-504.
NO_AGENT = "No available agent"
GATEWAY = (502, 503, 504)
# In a URL path these make another request of a job id ('' asks for the list of jobs).
NOT_IN_JOB_ID = "/?#%\\"
# Ray's client words an HTTP error as "Request failed with status code 500: <text>." (its
# own final dot); the text may be a whole traceback.
HTTP_ANSWER = re.compile(r"status code (\d+): (.*?)\.?$", re.S)
CONNECT_TIMEOUT_S = 5.0
# How long `jobs stop` waits for the job to end after asking it to.
STOP_TIMEOUT_S = 60.0
TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")
# Ray's job client modules that set their loggers to INFO themselves.
CLIENT_LOGGERS = ("ray.dashboard.modules.dashboard_sdk", "ray.dashboard.modules.job.sdk",
                  "ray._private.runtime_env.packaging")


class JobsError(RaytrecError):
    """The job server cannot be reached, or refused a request."""


class NotReady(JobsError):
    """The cluster at ``address`` is still starting: its dashboard refused the connection, or
    its job server has no agent to take a job yet. ``reason``: its answer, in a few words."""

    def __init__(self, message: str, address: str, reason: str) -> None:
        super().__init__(message)
        self.address, self.reason = address, reason


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
    _check_reachable(url)
    from ray.job_submission import JobSubmissionClient

    if not debugging():  # Ray's client logs each upload and websocket at INFO
        for name in ("ray", *CLIENT_LOGGERS):
            logging.getLogger(name).setLevel(logging.WARNING)
    try:
        return JobSubmissionClient(url)
    except Exception as exc:  # ConnectionError, RuntimeError, requests' and pydantic's errors
        reason = not_ready(exc)
        if reason:
            raise NotReady(f"the Ray job server at {url}: {reason}", url, reason) from None
        raise JobsError(f"the Ray job server at {url}: {answer(exc)}") from exc


def _check_reachable(url: str) -> None:
    try:
        with urllib.request.urlopen(f"{url}/api/version", timeout=CONNECT_TIMEOUT_S):
            pass
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise JobsError(f"{url} answers HTTP 404 to /api/version: it is not a Ray job "
                            "server; give the dashboard address of the head node, e.g. "
                            "http://HEAD:8265") from None
        if exc.code in GATEWAY:
            reason = f"HTTP {exc.code}: {exc.reason}"
            raise NotReady(f"the Ray job server at {url} answered {reason}", url,
                           reason) from None
        if exc.code not in (401, 403):  # token authentication: the client sends the token
            raise JobsError(f"the Ray job server at {url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        message = (f"cannot reach the Ray job server at {url} within {CONNECT_TIMEOUT_S:g} s "
                   f"({reason}); is the cluster up (ray up cluster.yaml) and its dashboard "
                   "forwarded (ray dashboard cluster.yaml)? check --address")
        # Refused (nothing listens yet) or reset: a dashboard still starting. A timeout or an
        # unknown host is a wrong address or a firewall, which waiting does not mend.
        if isinstance(reason, ConnectionError):
            raise NotReady(message, url, answer(reason)) from None
        raise JobsError(message) from None


def answer(exc: BaseException) -> str:
    """What the job server (or the connection) said, in one line: ``HTTP 500: <its text>``
    (the last line of a traceback it sent), ``connection refused``, or the error's text."""
    text = str(exc).strip()
    found = HTTP_ANSWER.search(text)
    if found:
        lines = [line.strip() for line in found.group(2).splitlines() if line.strip()]
        said = (lines[-1] if lines[0].startswith("Traceback") else lines[0]) if lines else ""
        return f"HTTP {found.group(1)}: {said}".rstrip(":. ")
    if _refused(exc):
        return "connection refused"
    return text.splitlines()[0] if text else type(exc).__name__


def not_ready(exc: BaseException) -> str | None:
    """``answer(exc)`` when it means a cluster still starting (worth asking again): Ray's "No
    available agent", a gateway's 502-504, a refused or dropped connection; else None."""
    said = answer(exc)
    if said.startswith("HTTP "):
        starting = NO_AGENT in said or said.startswith(tuple(f"HTTP {c}" for c in GATEWAY))
        return said if starting else None
    from requests.exceptions import ConnectionError as RequestsConnectionError

    return said if isinstance(exc, ConnectionError | RequestsConnectionError) else None


def _refused(exc: BaseException | None) -> bool:
    """Refused anywhere in the chain: Ray's client rewords requests' error, which rewords
    urllib3's, which holds the ``ConnectionRefusedError``."""
    while exc is not None:
        if isinstance(exc, ConnectionRefusedError) or "connection refused" in str(exc).lower():
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def check_job_id(job_id: str) -> None:
    """Refuse, before asking the cluster, a JOB that names no job: an empty one (an unset
    shell variable) asks Ray's server for the list of jobs, and '/', '?', '#' make another
    request of it."""
    hint = "give a job id as raytrec jobs list shows it"
    if not job_id.strip():
        raise JobsError(f"JOB is empty: {hint} (an unset shell variable gives an empty one)")
    bad = next((c for c in job_id if c in NOT_IN_JOB_ID or c.isspace() or not c.isprintable()),
               None)
    if bad is not None:
        raise JobsError(f"JOB {job_id!r} is not a job id: it holds {bad!r}; {hint}")


@contextmanager
def asking(client: Any, what: str) -> Iterator[None]:
    """One request to the job server: whatever Ray's client raises (a RuntimeError with the
    HTTP answer, requests' OSErrors, pydantic's ValueErrors) is ``<what> on ADDRESS failed:
    <answer>``; ``--debug`` shows the cause."""
    try:
        yield
    except RaytrecError:
        raise
    except Exception as exc:
        raise JobsError(f"{what} on {client.get_address()} failed: {answer(exc)}") from exc


def job_info(client: Any, job_id: str) -> Any:
    with asking(client, f"asking for job {job_id!r}"):
        try:
            return client.get_job_info(job_id)
        except RuntimeError as exc:
            if answer(exc).startswith("HTTP 404") or "does not exist" in str(exc):
                raise JobsError(f"no job {job_id!r} on {client.get_address()}; raytrec jobs "
                                "list shows the jobs there") from None
            raise


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
    except Exception as exc:  # RuntimeError, aiohttp's ClientErrors, OSErrors
        raise JobsError(f"lost the log stream of job {job_id}: {answer(exc)}; raytrec jobs "
                        f"logs {job_id} --follow picks it up again") from exc


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
