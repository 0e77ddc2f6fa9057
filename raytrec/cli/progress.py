"""A live progress bar fed by the run directory's progress file; a spinner with the stage of
the data's preparation."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from raytrec.run.progress_file import ProgressTail


class ProgressWatcher:
    """Tails ``progress.jsonl`` (written by the loop or the Train controller) in a thread: a
    live bar on a terminal; elsewhere (a job's log, a pipe) one line an epoch."""

    def __init__(self, run_dir: Path, epochs: int, metric: str, console: Console) -> None:
        self.metric, self.epochs, self.console = metric, epochs, console
        self.lines = not console.is_terminal
        self.progress = Progress(
            TextColumn("epoch"), MofNCompleteColumn(), BarColumn(),
            TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
            console=console, transient=False,
        )
        self.task = self.progress.add_task("train", total=epochs, status="starting")
        self._stop = threading.Event()
        self._tail = ProgressTail(run_dir, from_end=True)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ProgressWatcher:
        if not self.lines:
            self.progress.start()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._poll()
        if not self.lines:
            self.progress.stop()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._poll()

    def _poll(self) -> None:
        for row in self._tail.rows():
            self._show(row)

    def _show(self, row: dict[str, Any]) -> None:
        if row.get("finished"):
            return
        status = f"loss {row.get('train/loss', float('nan')):.4f}"
        key = f"valid/{self.metric}"
        if key in row:
            status += f"  {self.metric} {row[key]:.4f}"
        if self.lines:
            seconds = row.get("train/epoch_seconds")
            took = f"  {seconds:.1f} s" if isinstance(seconds, int | float) else ""
            self.console.print(f"epoch {row['epoch']}/{self.epochs}  {status}{took}",
                               soft_wrap=True, markup=False, highlight=False)
            return
        self.progress.update(self.task, completed=row["epoch"], status=status)


@contextmanager
def preparing(console: Console) -> Iterator[None]:
    """On a terminal, a spinner for the body with the last stage logged on
    ``raytrec.prepare`` (``raytrec.data.cluster.report``) and the time so far; elsewhere
    nothing (``--debug`` logs every stage)."""
    prepare = logging.getLogger("raytrec.prepare")
    if not console.is_terminal or prepare.isEnabledFor(logging.DEBUG):
        yield
        return
    progress = Progress(SpinnerColumn(), TextColumn("preparing the data: {task.description}"),
                        TimeElapsedColumn(), console=console, transient=True)
    task = progress.add_task("starting")

    class Shown(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            progress.update(task, description=record.getMessage(), refresh=True)

    shown = Shown()
    level, propagate = prepare.level, prepare.propagate
    prepare.addHandler(shown)
    prepare.setLevel(logging.INFO)
    prepare.propagate = False
    try:
        with progress:
            yield
    finally:
        prepare.removeHandler(shown)
        prepare.setLevel(level)
        prepare.propagate = propagate
