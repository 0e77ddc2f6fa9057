"""``raytrec submit`` right after ``ray start --head``: the dashboard refuses connections, then
the job server answers HTTP 500 "No available agent" until its agent registers. raytrec asks
again for ``--wait-for-cluster`` seconds, on those answers only. A stand-in job server
(``job_server``) and a clock that does not sleep: no cluster, no waiting."""

from __future__ import annotations

import math
import socket
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest

from raytrec.cli.main import main
from raytrec.cluster import ready
from raytrec.cluster.jobs import JobsError
from raytrec.cluster.ready import Clock, ClusterNotReady, Patience
from raytrec.cluster.submit import Request, submit
from tests.cluster.job_server import BAD_RUNTIME_ENV, NO_AGENT, JobServer, serving
from tests.conftest import write_config


class FakeClock:
    """Time that moves only when slept; ``on_sleep(n)`` runs at the n-th sleep (from 1)."""

    def __init__(self, on_sleep: Callable[[int], None] = lambda n: None) -> None:
        self.time, self.pauses, self.on_sleep = 0.0, [], on_sleep

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.time += seconds
        self.on_sleep(len(self.pauses))

    def clock(self) -> Clock:
        return Clock(lambda: self.time, self.sleep)


def _request(tmp_path: Path) -> Request:
    config = write_config(tmp_path / "tiny.yaml")
    return Request(str(config), [], str(tmp_path / "run"), None, False, False, [], [], [])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


def test_no_agent_answers_are_asked_again_until_the_job_is_taken(tmp_path: Path) -> None:
    fake, clock, notes = JobServer([NO_AGENT] * 3), FakeClock(), []
    with serving(fake) as url:
        done = submit(_request(tmp_path), url, lambda line: None,
                      Patience(120, notes.append, clock.clock()))
    assert len(fake.submissions) == 4
    assert {s["submission_id"] for s in fake.submissions} == {done.job_id}
    assert clock.pauses == [1, 2, 4]  # every few seconds, backing off
    assert notes == [f"the Ray cluster at {url} is not ready yet (HTTP 500: No available "
                     "agent to submit job, please try again later); waiting up to 120 s for "
                     "it, asking again every few seconds (Ctrl-C stops)"]


def test_a_cluster_that_never_gets_ready_fails_with_one_message(tmp_path: Path) -> None:
    fake, clock, notes = JobServer([NO_AGENT] * 1000), FakeClock(), []
    with serving(fake) as url, pytest.raises(ClusterNotReady) as raised:
        submit(_request(tmp_path), url, lambda line: None,
               Patience(30, notes.append, clock.clock()))
    assert str(raised.value) == (
        f"the Ray cluster at {url} was still not ready after 30 s: its last answer was HTTP "
        "500: No available agent to submit job, please try again later; check the cluster "
        "with `ray status` on its head node, or wait longer with --wait-for-cluster SECONDS")
    assert isinstance(raised.value, JobsError) and len(notes) == 1
    assert math.isclose(sum(clock.pauses), 30) and max(clock.pauses) == 5
    assert len(fake.submissions) == len(clock.pauses) + 1


def test_a_refused_connection_is_asked_again_until_the_dashboard_listens(
        tmp_path: Path) -> None:
    port, notes, stack = _free_port(), [], ExitStack()
    fake = JobServer([NO_AGENT])
    urls: list[str] = []
    clock = FakeClock(lambda n: urls.append(stack.enter_context(serving(fake, port)))
                      if n == 2 else None)
    with stack:
        done = submit(_request(tmp_path), f"127.0.0.1:{port}", lambda line: None,
                      Patience(120, notes.append, clock.clock()))
    assert done.address == urls[0] and len(fake.submissions) == 2
    assert len(notes) == 1 and "is not ready yet (connection refused)" in notes[0]
    assert clock.pauses == [1, 2, 4]


def test_a_dashboard_that_never_listens_fails_after_the_wait(tmp_path: Path) -> None:
    port, clock = _free_port(), FakeClock()
    with pytest.raises(ClusterNotReady, match=rf"the Ray cluster at http://127\.0\.0\.1:{port} "
                       r"was still not ready after 10 s: its last answer was connection "
                       r"refused; check the cluster with `ray status`"):
        submit(_request(tmp_path), f"127.0.0.1:{port}", lambda line: None,
               Patience(10, lambda line: None, clock.clock()))
    assert math.isclose(sum(clock.pauses), 10)


@pytest.mark.parametrize(("answer", "said"), [
    (BAD_RUNTIME_ENV, "HTTP 400: ValueError: runtime_env: pip: no such package 'nosuch'"),
    ((500, "Traceback (most recent call last):\nRuntimeError: boom"), "HTTP 500: RuntimeError: "
                                                                      "boom"),
    ((404, "Not Found"), "HTTP 404: Not Found"),
])
def test_other_answers_are_not_asked_again(tmp_path: Path, answer: tuple[int, str],
                                           said: str) -> None:
    fake, clock, notes = JobServer([answer]), FakeClock(), []
    with serving(fake) as url, pytest.raises(JobsError) as raised:
        submit(_request(tmp_path), url, lambda line: None,
               Patience(120, notes.append, clock.clock()))
    assert str(raised.value) == f"the job server at {url} refused the job: {said}"
    assert not isinstance(raised.value, ClusterNotReady)
    assert len(fake.submissions) == 1 and clock.pauses == [] and notes == []


def test_waiting_none_fails_at_the_first_answer(tmp_path: Path) -> None:
    fake, clock, notes = JobServer([NO_AGENT]), FakeClock(), []
    with serving(fake) as url, pytest.raises(ClusterNotReady, match="not ready after 0 s"):
        submit(_request(tmp_path), url, lambda line: None,
               Patience(0, notes.append, clock.clock()))
    assert len(fake.submissions) == 1 and clock.pauses == [] and notes == []


def _run(monkeypatch: pytest.MonkeyPatch, clock: FakeClock, *argv: object) -> int:
    monkeypatch.setattr(ready, "SYSTEM_CLOCK", clock.clock())
    return main([str(a) for a in argv])


def test_the_command_says_once_on_stderr_that_it_waits(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture) -> None:
    fake, clock = JobServer([NO_AGENT] * 2), FakeClock()
    config = write_config(tmp_path / "tiny.yaml")
    with serving(fake) as url:
        code = _run(monkeypatch, clock, "submit", config, "--address", url, "--run-dir",
                    tmp_path / "run", "--wait-for-cluster", "45")
    out, err = capsys.readouterr()
    assert code == 0 and "submitted job raytrec-tiny-" in out
    assert err.count("is not ready yet") == 1 and "waiting up to 45 s" in err
    assert "not ready" not in out


def test_the_command_fails_with_one_message_when_the_wait_runs_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    clock = FakeClock()
    config = write_config(tmp_path / "tiny.yaml")
    with serving(JobServer([NO_AGENT] * 1000)) as url:
        code = _run(monkeypatch, clock, "submit", config, "--address", url, "--run-dir",
                    tmp_path / "run", "--wait-for-cluster", "20")
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    last = " ".join(err.split()).split("raytrec: ")[-1]
    assert last.startswith(f"the Ray cluster at {url} was still not ready after 20 s")
    assert math.isclose(sum(clock.pauses), 20)


def test_ctrl_c_while_waiting_stops_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture) -> None:
    def pressed(n: int) -> None:
        raise KeyboardInterrupt

    fake = JobServer([NO_AGENT] * 1000)
    config = write_config(tmp_path / "tiny.yaml")
    with serving(fake) as url:
        code = _run(monkeypatch, FakeClock(pressed), "submit", config, "--address", url,
                    "--run-dir", tmp_path / "run")
    err = capsys.readouterr().err
    assert code == 130 and "raytrec: interrupted" in err and "Traceback" not in err
    assert len(fake.submissions) == 1


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "soon"])
def test_an_impossible_wait_is_refused(value: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["submit", "c.yaml", "--wait-for-cluster", value])
    assert raised.value.code == 2
    assert "--wait-for-cluster: give a number of seconds, 0 or more" in capsys.readouterr().err
