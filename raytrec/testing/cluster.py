"""A real one-node Ray cluster for tests and benchmarks: ``ray start --head --block`` on ports
of its own (so that it never meets another cluster of the machine), stopped by its pid
(SIGINT, which stops a blocking head cleanly) with nothing left running.

    head = start_head(num_cpus=2)
    try:
        ...  # raytrec submit CONFIG --address {head.address} ...
    finally:
        head.stop()
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 60.0
WORKER_PORTS = 200  # one per worker process the tests start, with room to spare


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Head:
    """A running head node: its job server, its GCS address and its session files."""

    process: subprocess.Popen
    address: str  # the job server, http://127.0.0.1:PORT
    gcs: str  # host:port for ray.init
    temp_dir: Path
    log: Path

    def stop(self) -> None:
        """Stop the head (SIGINT, then SIGKILL of its process group after a minute), and any
        process of the cluster that outlived it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        _kill_leftovers(self.temp_dir)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def head_command(temp_dir: Path, num_cpus: int) -> tuple[list[str], int, int]:
    """``ray start --head`` on free ports of its own; also its GCS and dashboard ports."""
    # The workers' ports come from the same draw as the components' ports: a range next to a
    # random port could hold one of them, and Ray refuses to start on such an overlap.
    ports = free_ports(9 + WORKER_PORTS)
    gcs, dashboard, client, node, objects, metrics, agent, agent_grpc, runtime_env = ports[:9]
    workers = ",".join(map(str, ports[9:]))
    ray = str(Path(sys.executable).parent / "ray")
    cmd = [ray, "start", "--head", "--block", f"--num-cpus={num_cpus}", "--num-gpus=0",
           f"--port={gcs}", f"--dashboard-port={dashboard}", "--include-dashboard=true",
           "--dashboard-host=127.0.0.1", f"--ray-client-server-port={client}",
           f"--node-manager-port={node}", f"--object-manager-port={objects}",
           f"--metrics-export-port={metrics}", f"--dashboard-agent-listen-port={agent}",
           f"--dashboard-agent-grpc-port={agent_grpc}", f"--runtime-env-agent-port={runtime_env}",
           f"--worker-port-list={workers}", f"--temp-dir={temp_dir}", "--disable-usage-stats",
           "--object-store-memory=600000000"]
    return cmd, gcs, dashboard


def start_head(num_cpus: int = 2, env: dict[str, str] | None = None) -> Head:
    """Start a head node and wait (at most ``START_TIMEOUT_S``) for its job server."""
    temp_dir = Path(tempfile.mkdtemp(prefix="rt-", dir="/tmp"))
    log = temp_dir / "head.log"
    cmd, gcs, dashboard = head_command(temp_dir, num_cpus)
    # The nodes' caches (raytrec.run.mirror) go with the cluster, not into the user's home.
    full_env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0",
                "RAYTREC_CACHE_DIR": str(temp_dir / "cache"), **(env or {})}
    full_env.pop("RAY_ADDRESS", None)
    with log.open("w") as out:
        # SIGINT is what stops the head: a caller started in the background (which ignores
        # SIGINT, and passes that on) must not leave it deaf to it.
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=full_env,
                                   start_new_session=True, preexec_fn=_default_sigint)
    head = Head(process, f"http://127.0.0.1:{dashboard}", f"127.0.0.1:{gcs}", temp_dir, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = log.read_text()[-2000:]
            head.stop()
            raise RuntimeError(f"ray start exited with {process.returncode}: {said}")
        try:
            with urllib.request.urlopen(f"{head.address}/api/version", timeout=2):
                return head
        except OSError:
            time.sleep(0.5)
    head.stop()
    raise RuntimeError(f"the job server did not answer within {START_TIMEOUT_S:g} s")


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _kill_leftovers(temp_dir: Path) -> None:
    """Any process still naming the cluster's temp dir (a raylet, a worker) is killed."""
    for pid in running(temp_dir):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)


def running(temp_dir: Path) -> list[str]:
    """Processes that still belong to the cluster."""
    return subprocess.run(["pgrep", "-f", str(temp_dir)], capture_output=True, text=True,
                          check=False).stdout.split()


def train_workers(address: str) -> list[int]:
    """The pids of the live Ray Train workers of the cluster, found through Ray's state API."""
    from ray.util.state import list_actors

    actors = list_actors(address=address, filters=[("class_name", "=", "RayTrainWorker"),
                                                   ("state", "=", "ALIVE")])
    return sorted(a.pid for a in actors)


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str,
             every_s: float = 0.2) -> Any:
    """Poll ``condition`` until it returns something true; TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every_s)
    raise TimeoutError(f"{what}: not within {timeout_s:g} s")
