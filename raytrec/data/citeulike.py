"""CiteULike (the ``citeulike-a``/``-t`` releases): users' libraries of scientific articles.

``users.dat``: line ``u`` (0-based) lists user ``u``'s articles as ``count item item ...``.
The optional ``item-tag.dat`` lists each article's tags the same way (line ``i`` = article
``i``) and becomes the ``tags`` item feature.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from raytrec.data.base import ITEM, USER, Dataset, RawData
from raytrec.errors import ArgumentError, DataError

logger = logging.getLogger(__name__)

NAME = "citeulike"


class CiteULike(Dataset):
    """Implicit feedback from CiteULike ``users.dat``, with optional article tags.

    Args:
        path: the ``users.dat`` file.
        item_tags: the ``item-tag.dat`` file (``tags`` item feature: a list of tag ids).
    """

    name = NAME
    path_args = ("path", "item_tags")

    def __init__(self, path: str, item_tags: str | None = None) -> None:
        for key, value in (("path", path), ("item_tags", item_tags)):
            if value is None and key == "item_tags":
                continue
            if not isinstance(value, str | os.PathLike) or not str(value):
                raise ArgumentError(key, f"must be a non-empty path string, got {value!r}")
        self.path = path
        self.item_tags = item_tags

    def load(self) -> RawData:
        rows = read_count_lists(Path(self.path).expanduser(), "path", "items")
        counts = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        users = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
        items = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
        inter = pd.DataFrame({USER: users, ITEM: items})
        item_features = None
        if self.item_tags is not None:
            tags = read_count_lists(Path(self.item_tags).expanduser(), "item_tags", "tags")
            item_features = pd.DataFrame(
                {"tags": pd.Series([t.tolist() for t in tags], dtype=object)},
                index=pd.RangeIndex(len(tags), name=ITEM),
            )
        logger.info("%s: %d interactions, %d users", NAME, len(inter), len(rows))
        return RawData(interactions=inter, item_features=item_features, name=NAME)


def read_count_lists(path: Path, key: str, what: str) -> list[np.ndarray]:
    """Line ``k`` of a ``count id id ...`` file as an int64 array (empty lines: no ids)."""
    if not path.is_file():
        raise DataError(f"citeulike {key}: file {path} does not exist; fix {key}: in the config")
    rows: list[np.ndarray] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            rows.append(_parse_line(line, path, number, what))
    if not rows:
        raise DataError(f"citeulike {key}: file {path} is empty; point {key}: at a non-empty "
                        f"CiteULike file")
    return rows


def _parse_line(line: str, path: Path, number: int, what: str) -> np.ndarray:
    fields = line.split()
    if not fields:
        return np.empty(0, dtype=np.int64)
    try:
        values = np.array([int(f) for f in fields], dtype=np.int64)
    except ValueError:
        raise DataError(
            f"{path} line {number}: expected whole numbers 'count {what[:-1]} {what[:-1]} ...', "
            f"got {line.strip()[:80]!r}; is this a CiteULike .dat file?"
        ) from None
    if values[0] != len(values) - 1:
        raise DataError(
            f"{path} line {number}: the count {values[0]} does not match the {len(values) - 1} "
            f"{what} that follow; fix the count or the list on that line"
        )
    return values[1:]
