"""A data option that names a folder: the files in it, as Spark, Hive and Ray Data write a
table (``part-00000.parquet`` …, beside ``_SUCCESS`` and ``.crc`` files).

Every file at any depth is read, in path order, except those with a name, or a folder on
the way, that starts with ``.`` or ``_``: the markers and checksums those tools leave, the
names pyarrow's datasets skip by default. Partition folders (``date=2024-01-01/``) are read
as folders; their names do not become columns.
"""

from __future__ import annotations

import os
from pathlib import Path

SKIPPED = (".", "_")


def folder_files(folder: Path) -> list[Path]:
    """The data files under ``folder``, in path order."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(SKIPPED)]
        found += [Path(root, name) for name in files if not name.startswith(SKIPPED)]
    return sorted(found)
