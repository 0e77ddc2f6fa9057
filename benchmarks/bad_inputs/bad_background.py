"""A raytrec command running in the background while the measured one runs (two writers of
one run directory, a reader during training).

The background command runs in its own session with its output in files under
``<case>/logs``; its process group is killed by a cleanup registered in the case's Ctx, so it
never outlives the case, whatever fails. ``finish`` lets it end on its own first and says what
it did.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bad_context import Ctx, SetupError
from bad_runner import TRACEBACK, message


@dataclass
class Background:
    argv: list[str]
    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    started: float = field(default_factory=time.monotonic)
    killed: bool = False

    def kill(self) -> None:
        """SIGKILL the whole group (idempotent)."""
        if self.proc.poll() is None:
            self.killed = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def wait_for(self, root: Path, pattern: str, timeout: float = 60.0) -> None:
        """Until ``root/pattern`` (a glob) exists; SetupError when the command ends first."""
        deadline = time.monotonic() + timeout
        while not any(root.glob(pattern)):
            if self.proc.poll() is not None:
                raise SetupError(f"background {' '.join(self.argv)} ended (exit "
                                 f"{self.proc.returncode}) before {pattern} appeared: "
                                 f"{message(self.stderr.read_text(errors='replace'))}")
            if time.monotonic() > deadline:
                raise SetupError(f"{pattern} did not appear within {timeout:.0f} s")
            time.sleep(0.05)

    def finish(self, ctx: Ctx, timeout: float) -> str:
        """Wait up to ``timeout`` s for it to end by itself, else kill it; what it did."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=timeout)
        seconds = round(time.monotonic() - self.started, 1)
        if self.proc.poll() is None:
            self.kill()
            # What the harness's SIGKILL leaves is not raytrec's doing.
            ctx.notes["leftovers_unjudged"] = "the background command was killed"
            ended = f"still running after {seconds} s: killed"
        else:
            ended = f"exit {self.proc.returncode} after {seconds} s"
        err = self.stderr.read_text(errors="replace")
        said = message(err)
        tb = "; traceback" if TRACEBACK in err else ""
        return f"background `{' '.join(self.argv)}`: {ended}{tb}; " + (
            f"said `{said[:100]}`" if said else "said nothing on stderr")


def start(ctx: Ctx, argv: list[str], env: dict[str, str] | None = None) -> Background:
    logs = ctx.root / "logs"
    logs.mkdir(exist_ok=True)
    n = len(list(logs.glob("bg-*.out")))
    out, err = logs / f"bg-{n}.out", logs / f"bg-{n}.err"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(ctx.command(argv), cwd=ctx.root, env=ctx.env(env),
                                stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                                start_new_session=True)
    job = Background(argv, proc, out, err)
    ctx.cleanups.append(job.kill)
    return job
