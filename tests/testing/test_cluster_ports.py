"""The test clusters' ports: Ray refuses to start when two of its components share one."""

from __future__ import annotations

import re
from pathlib import Path

from raytrec.testing.cluster import head_command


def _ports(cmd: list[str]) -> tuple[list[int], list[int]]:
    components, workers = [], []
    for arg in cmd:
        if arg.startswith("--worker-port-list="):
            workers = [int(p) for p in arg.split("=", 1)[1].split(",")]
        elif re.fullmatch(r"--[a-z-]*port=\d+", arg):
            components.append(int(arg.split("=", 1)[1]))
        assert not arg.startswith(("--min-worker-port", "--max-worker-port"))
    return components, workers


def test_no_component_port_is_also_a_worker_port(tmp_path: Path) -> None:
    # A worker range drawn next to one random port held another component's port in about one
    # start in fifteen; a hundred draws would all but surely show it.
    for _ in range(100):
        cmd, gcs, dashboard = head_command(tmp_path, num_cpus=2)
        components, workers = _ports(cmd)
        assert len(components) == 9 and {gcs, dashboard} <= set(components)
        assert len(workers) >= 50
        assert len(set(components) | set(workers)) == len(components) + len(workers)
