"""A stand-in for a Ray job server, for tests of ``raytrec submit`` and ``jobs`` that must not
start a cluster: Ray's own ``JobSubmissionClient`` talks to it over HTTP, so the errors the
tests see are the SDK's."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import ray

# What Ray 2.60's job server answers while the head's job agent has not registered yet.
NO_AGENT = (500, "No available agent to submit job, please try again later.")
BAD_RUNTIME_ENV = (400, "Traceback (most recent call last):\n  File \"job_head.py\", line 1\n"
                        "ValueError: runtime_env: pip: no such package 'nosuch'")


class JobServer:
    """Answers ``/api/version``, says every package is uploaded already, and answers each job
    submission with the next of ``answers`` (status, text), then with success. ``routes``
    answers other requests: ``{"GET /api/jobs/x": (404, "Job x does not exist")}``."""

    def __init__(self, answers: list[tuple[int, str]] | None = None,
                 routes: dict[str, tuple[int, str]] | None = None) -> None:
        self.answers = list(answers or [])
        self.routes = dict(routes or {})
        self.submissions: list[dict] = []  # every POST /api/jobs/, answered or not
        self.requests: list[str] = []

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, str]:
        self.requests.append(f"{method} {path}")
        if f"{method} {path}" in self.routes:
            return self.routes[f"{method} {path}"]
        if path == "/api/version":
            return 200, json.dumps({"version": "4", "ray_version": ray.__version__,
                                    "ray_commit": "0", "session_name": "fake"})
        if path.startswith("/api/packages/"):
            return 200, ""
        if method == "POST" and path == "/api/jobs/":
            request = json.loads(body)
            self.submissions.append(request)
            if self.answers:
                return self.answers.pop(0)
            return 200, json.dumps({"submission_id": request["submission_id"],
                                    "job_id": None})
        return 404, f"no route {method} {path}"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        status, text = self.server.fake.answer(self.command, self.path, self.rfile.read(length))
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _reply

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    fake: JobServer


@contextmanager
def serving(fake: JobServer, port: int = 0) -> Iterator[str]:
    """``fake`` on 127.0.0.1 (``port``, or a free one) while the body runs; yields its URL."""
    server = _Server(("127.0.0.1", port), _Handler)
    server.fake = fake
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
