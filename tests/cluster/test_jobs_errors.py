"""``raytrec jobs``: an impossible job id is refused before the cluster is asked, and whatever
Ray's job client raises is one raytrec message, not a traceback. A stand-in job server
(``job_server``) answers as Ray's does."""

from __future__ import annotations

import json

import pytest

from raytrec.cli.main import main
from tests.cluster.job_server import JobServer, serving

RUNNING = json.dumps({"type": "SUBMISSION", "submission_id": "j1", "status": "RUNNING",
                      "entrypoint": "python -m raytrec.cli.main train config.yaml"})
GCS_DOWN = (500, "Traceback (most recent call last):\n  File \"job_head.py\", line 9\n"
                 "RuntimeError: GCS is not reachable")


def _jobs(*argv: str, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    code = main(["jobs", *argv])
    return code, " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize("verb", ["status", "logs", "stop"])
@pytest.mark.parametrize(("job", "why"), [
    ("", "JOB is empty"),
    ("   ", "JOB is empty"),
    ("j1/logs", "JOB 'j1/logs' is not a job id: it holds '/'"),
    ("j1?x=1", "JOB 'j1?x=1' is not a job id: it holds '?'"),
    ("j 1", "JOB 'j 1' is not a job id: it holds ' '"),
])
def test_an_impossible_job_id_is_refused_before_the_cluster_is_asked(
        verb: str, job: str, why: str, capsys: pytest.CaptureFixture) -> None:
    # Ray's job server answers GET /api/jobs/ with the list of jobs: an empty id was a
    # status request that became a list request, and a TypeError in the SDK.
    fake = JobServer(routes={"GET /api/jobs/": (200, "[]")})
    with serving(fake) as url:
        code, err = _jobs(verb, job, "--address", url, capsys=capsys)
    assert code == 2 and "Traceback" not in err
    assert err.startswith(f"raytrec: {why}"), err
    assert "raytrec jobs list" in err
    assert fake.requests == []


@pytest.mark.parametrize(("argv", "routes", "said"), [
    (["list"], {"GET /api/jobs/": GCS_DOWN},
     "listing the jobs on {url} failed: HTTP 500: RuntimeError: GCS is not reachable"),
    (["list"], {"GET /api/jobs/": (200, "not json")},
     "listing the jobs on {url} failed: Expecting value: line 1 column 1 (char 0)"),
    (["status", "j1"], {"GET /api/jobs/j1": GCS_DOWN},
     "asking for job 'j1' on {url} failed: HTTP 500: RuntimeError: GCS is not reachable"),
    (["logs", "j1"], {"GET /api/jobs/j1": (200, RUNNING), "GET /api/jobs/j1/logs": GCS_DOWN},
     "reading the logs of job 'j1' on {url} failed: HTTP 500: RuntimeError: GCS is not "
     "reachable"),
    (["stop", "j1"], {"GET /api/jobs/j1": (200, RUNNING),
                      "POST /api/jobs/j1/stop": (500, "Job j1 has no supervisor")},
     "stopping job 'j1' on {url} failed: HTTP 500: Job j1 has no supervisor"),
    (["status", "nosuch"], {"GET /api/jobs/nosuch": (404, "Job nosuch does not exist")},
     "no job 'nosuch' on {url}; raytrec jobs list shows the jobs there"),
])
def test_an_error_of_the_job_server_is_one_message(argv: list[str],
                                                   routes: dict[str, tuple[int, str]],
                                                   said: str,
                                                   capsys: pytest.CaptureFixture) -> None:
    with serving(JobServer(routes=routes)) as url:
        code, err = _jobs(*argv, "--address", url, capsys=capsys)
    assert code == 2 and "Traceback" not in err
    assert err == f"raytrec: {said.format(url=url)}"


def test_a_server_gone_between_requests_is_one_message(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture) -> None:
    """The server answered when raytrec connected, then went away (requests' ConnectionError,
    an OSError that is no builtin ConnectionError)."""
    import requests

    from raytrec.cluster import jobs

    connect = jobs.connect

    def gone(*args: object, **kwargs: object) -> None:
        raise requests.exceptions.ConnectionError("('Connection aborted.', "
                                                  "RemoteDisconnected('closed'))")

    def connect_then_lose(address: str | None) -> object:
        client = connect(address)
        monkeypatch.setattr(requests, "request", gone)
        return client

    monkeypatch.setattr(jobs, "connect", connect_then_lose)
    with serving(JobServer()) as url:
        code, err = _jobs("list", "--address", url, capsys=capsys)
    assert code == 2 and "Traceback" not in err
    assert err.startswith(f"raytrec: listing the jobs on {url} failed: ")
