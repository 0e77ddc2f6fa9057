"""The raytrec command line as a user on another machine runs it: a new process, with
``site`` (a folder of installed distributions) on its path."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

JOB_TIMEOUT_S = 600


def cli(*args: object, site: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "raytrec.cli.main", *map(str, args)],
                          capture_output=True, text=True, timeout=JOB_TIMEOUT_S, env=env)


def job_id(output: str) -> str:
    found = re.search(r"submitted job (\S+)", output)
    assert found, output
    return found.group(1)


def final_test_metrics(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "metrics.json").read_text())["test"]
