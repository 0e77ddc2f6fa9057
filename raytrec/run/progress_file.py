"""A run's progress file (``progress.jsonl``: one JSON line an epoch, rank 0's metrics) read
as it grows, by whoever follows a run from its driver: the progress bar, the tracker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from raytrec.layout import PROGRESS_FILE


class ProgressTail:
    """The rows appended since the last ``rows()`` (from the file's start, or its end at the
    time it was made with ``from_end``); a line still being written waits for the next
    call, and a damaged one (a disk filled up mid-write) is skipped."""

    def __init__(self, run_dir: Path, from_end: bool = False) -> None:
        self.path = Path(run_dir) / PROGRESS_FILE
        self.offset = self.path.stat().st_size if from_end and self.path.exists() else 0

    def rows(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            data = fh.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        found = []
        for line in data[:end].splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                found.append(row)
        return found
