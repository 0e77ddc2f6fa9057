"""A dataset: interactions from a JSON-lines file, one ``{"user": ..., "item": ...}`` a line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from raytrec.api import ArgumentError, DataError, Dataset, RawData


class JsonLinesDataset(Dataset):
    """Interactions from ``path``, a JSON-lines file with ``user`` and ``item`` fields (and
    ``timestamp`` if present).

    Args:
        path: the file; relative to the config file's folder.
    """

    path_args = ("path",)  # raytrec makes these absolute, from the config's folder

    def __init__(self, path: str) -> None:
        # No file access here: this runs while the config is validated.
        if not isinstance(path, str) or not path:
            raise ArgumentError("path", f"must be a non-empty path string, got {path!r}")
        self.path = path

    def load(self) -> RawData:
        path = Path(self.path)
        if not path.is_file():
            raise DataError(f"template-jsonl dataset path: {path} does not exist; fix path: "
                            "in the config")
        try:
            frame = pd.read_json(path, lines=True, dtype={"user": str, "item": str})
        except ValueError as exc:
            raise DataError(f"template-jsonl dataset path: {path} is not JSON lines "
                            f"({exc})") from exc
        missing = {"user", "item"} - set(frame.columns)
        if missing:
            raise DataError(f"template-jsonl dataset path: {path} has no "
                            f"{', '.join(sorted(missing))} field; every line needs both")
        return RawData(frame[[c for c in ("user", "item", "timestamp") if c in frame]],
                       name="template-jsonl")
