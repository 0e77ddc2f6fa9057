"""Running one command and reading its output: Signals, Result, run_command, message."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRACEBACK = "Traceback (most recent call last):"
PROBLEMS = re.compile(r"^raytrec: \d+ problems? in ")
RAY_PREFIX = re.compile(r"^\([\w.:-]+ pid=\d+(?:, ip=[\d.]+)?\) ")


@dataclass(frozen=True)
class Signals:
    """Signals to the command, by default SIGINTs to its process group as Ctrl-C sends them.

    The clock starts when a stdout line contains ``after_stdout`` or when ``after_file``
    (relative to the case directory; a glob pattern when it holds ``*``) exists, or at the
    start when neither is given; one signal is sent ``at[i]`` seconds after that. ``group``
    False sends it to the command's own process only, as ``kill PID`` (or a container
    runtime) does.
    """

    after_stdout: str | None = None
    after_file: str | None = None
    at: tuple[float, ...] = (0.0,)
    grace: float = 40.0  # a prompt exit follows the first signal within this many seconds
    sig: int = signal.SIGINT
    group: bool = True


@dataclass
class Result:
    exit: int | None  # None: killed by the timeout
    seconds: float
    stdout: str
    stderr: str
    signals_sent: list[float] = field(default_factory=list)  # seconds after the start

    @property
    def timed_out(self) -> bool:
        return self.exit is None

    @property
    def exit_after_first_signal(self) -> float | None:
        if not self.signals_sent or self.timed_out:
            return None
        return round(self.seconds - self.signals_sent[0], 2)


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def run_command(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float,
                signals: Signals | None = None, root: Path | None = None) -> Result:
    """Run ``cmd`` in a new session; kill its process group after ``timeout`` seconds."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace", start_new_session=True)
    out: list[str] = []
    err: list[str] = []
    readers = [threading.Thread(target=_drain, args=(stream, sink), daemon=True)
               for stream, sink in ((proc.stdout, out), (proc.stderr, err))]
    for reader in readers:
        reader.start()
    triggered: float | None = None
    sent: list[float] = []
    timed_out = False
    while proc.poll() is None:
        now = time.monotonic()
        if now - start > timeout:
            _kill_group(proc.pid, signal.SIGKILL)
            proc.wait()
            timed_out = True
            break
        if signals is not None:
            if triggered is None and _trigger(signals, out, root or cwd):
                triggered = now
            if (triggered is not None and len(sent) < len(signals.at)
                    and now >= triggered + signals.at[len(sent)]):
                _send(proc.pid, signals)
                sent.append(round(now - start, 2))
        time.sleep(0.05)
    seconds = time.monotonic() - start
    _kill_group(proc.pid, signal.SIGKILL)  # whatever the command left running in its group
    for reader in readers:
        reader.join(timeout=5)
    return Result(None if timed_out else proc.returncode, round(seconds, 2), "".join(out),
                  "".join(err), sent)


def _send(pid: int, signals: Signals) -> None:
    if signals.group:
        _kill_group(pid, signals.sig)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signals.sig)


def _drain(stream: Any, sink: list[str]) -> None:
    for line in stream:
        sink.append(line)


def _trigger(signals: Signals, out: list[str], root: Path) -> bool:
    if signals.after_stdout is None and signals.after_file is None:
        return True
    if signals.after_file is not None and "*" in signals.after_file:
        return any(root.glob(signals.after_file))
    if signals.after_stdout is not None and any(signals.after_stdout in line for line in out):
        return True
    return signals.after_file is not None and (root / signals.after_file).exists()


def message(stderr: str) -> str:
    """First non-empty stderr line; for a traceback its last line (the exception).

    A list of config problems keeps its indented lines, joined by " / ".
    """
    lines = [RAY_PREFIX.sub("", line.rstrip()) for line in stderr.splitlines()]
    starts = [i for i, line in enumerate(lines) if TRACEBACK in line]
    if starts:
        for line in lines[starts[-1] + 1:]:
            if line.strip() and not line[0].isspace():
                return f"traceback: {line.strip()}"
        return "traceback: (no exception line)"
    text = [line for line in lines if line.strip()]
    if not text:
        return ""
    if PROBLEMS.match(text[0]):  # "raytrec: 2 problems in c.yaml" + one indented line each
        details = [line.strip() for line in text[1:] if line[0].isspace()]
        return " / ".join([text[0].strip(), *details])
    return text[0].strip()
