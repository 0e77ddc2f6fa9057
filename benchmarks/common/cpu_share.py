"""Where a machine's CPU goes while something runs: per-process CPU seconds from ``/proc``
(Linux), sampled every ``EVERY`` seconds over a ``with`` block (so processes that start and
end inside it count up to their last sample), grouped by the process's command line. Used by
``workers.py`` to show what the Train workers get of the two cores."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

TICKS = os.sysconf("SC_CLK_TCK")
EVERY = 0.5


def _cpu_by_process() -> dict[int, tuple[str, float]]:
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{name}/cmdline") as fh:
                command = fh.read().replace("\0", " ").strip()
        except OSError:
            continue  # ended in between
        out[int(name)] = (command, (int(fields[11]) + int(fields[12])) / TICKS)
    return out


def group(command: str) -> str:
    """``RayTrainWorker``, ``ray (other)`` or ``other``."""
    if "RayTrainWorker" in command:
        return "RayTrainWorker"
    return "ray (other)" if "ray" in command else "other"


@contextmanager
def cpu_share(into: dict[str, float]) -> Iterator[None]:
    """Fill ``into`` with each group's CPU use over the block, in cores (1.0 = one core
    busy all the time), and ``per_worker`` with the mean of the Train workers."""
    first = _cpu_by_process()
    last = dict(first)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(EVERY):
            last.update(_cpu_by_process())

    watcher = threading.Thread(target=sample, daemon=True)
    start = time.perf_counter()
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        last.update(_cpu_by_process())
        seconds = time.perf_counter() - start
        workers = 0
        for pid, (command, used) in last.items():
            cores = (used - first.get(pid, (command, 0.0))[1]) / seconds
            into[group(command)] = into.get(group(command), 0.0) + cores
            workers += group(command) == "RayTrainWorker"
        if workers:
            into["per_worker"] = into["RayTrainWorker"] / workers
        for key in into:
            into[key] = round(into[key], 3)
