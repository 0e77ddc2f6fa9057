"""The first stage: a dataset's interaction files read in parts (a Parquet row group, a
whole CSV file), in parallel, each row tagged with where it came from.

A part's rows carry ``_file`` (the file's place among the dataset's files: ``path``, or
``train``, ``valid``, ``test``, a folder's files in path order) and ``_row`` (the row's
0-based place in its file): what the pandas engine's order is, so that "the first record of
a repeated pair" and a bad row's message mean the same under either engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from raytrec.data.base import RATING, SPLIT, TIMESTAMP, Dataset
from raytrec.data.columns import numeric, seconds
from raytrec.data.delimited import CsvDataset
from raytrec.data.tabular import ParquetDataset, TabularDataset
from raytrec.errors import DataError

FILE, ROW = "_file", "_row"


@dataclass(frozen=True)
class Part:
    """One read task: rows ``offset…`` of file number ``file`` (a row group, or all)."""

    key: str
    path: str
    file: int
    group: int | None
    offset: int


def check_dataset(dataset: Dataset) -> TabularDataset:
    """``dataset``, when this engine reads it (the csv and parquet datasets and their
    subclasses); else the ``DataError`` that says so."""
    if not isinstance(dataset, TabularDataset):
        raise DataError(f"prepare.engine: ray reads the files of the csv and parquet datasets; "
                        f"dataset '{getattr(dataset, 'name', type(dataset).__name__)}' is "
                        "neither: set prepare.engine: pandas")
    return dataset


def parts(dataset: TabularDataset) -> list[Part]:
    """The read tasks of ``dataset``'s interaction files, in file order; each file's header
    and columns checked first, on the driver, as the pandas engine checks them."""
    found = []
    for number, (key, path) in enumerate(dataset.interaction_files()):
        dataset._require(path, key, _wanted(dataset))
        if isinstance(dataset, ParquetDataset):
            problems = dataset.file_problems(path, pd.DataFrame())  # its schema's id types
            if problems:
                raise DataError(f"{dataset.name} dataset {key}: {path}: " + "; ".join(problems))
            meta = pq.ParquetFile(path).metadata
            if meta.num_rows == 0:
                raise _no_rows(dataset, key, path)
            offsets = np.r_[0, np.cumsum([meta.row_group(g).num_rows
                                          for g in range(meta.num_row_groups)])]
            found += [Part(key, str(path), number, g, int(offsets[g]))
                      for g in range(meta.num_row_groups) if meta.row_group(g).num_rows]
        elif isinstance(dataset, CsvDataset):
            try:
                empty = pd.read_csv(path, nrows=1, **dataset._options(path)).empty
            except Exception:  # the read task says what is wrong with the file
                empty = False
            if empty:
                raise _no_rows(dataset, key, path)
            found.append(Part(key, str(path), number, None, 0))
        else:  # a subclass of neither format
            raise DataError(f"prepare.engine: ray reads CSV and Parquet files; dataset "
                            f"'{dataset.name}' reads {dataset.kind}: set prepare.engine: pandas")
    return found


def _no_rows(dataset: TabularDataset, key: str, path: Path) -> DataError:
    return DataError(f"{dataset.name} dataset {key}: {path} has no rows; point {key}: at a "
                     "file with data")


def _wanted(dataset: TabularDataset) -> list[str]:
    named = (dataset.user_col, dataset.item_col, dataset.rating_col, dataset.timestamp_col)
    return list(dict.fromkeys(c for c in named if c is not None))


def read_part(dataset: TabularDataset, part: Part) -> pd.DataFrame:
    """The rows of ``part`` in raytrec's columns (``user``, ``item`` as the file types them,
    ``rating``, ``timestamp`` as numbers; ``split`` for a ready-made split), ``_file``,
    ``_row``."""
    path = Path(part.path)
    columns = _wanted(dataset)
    try:
        if part.group is None:
            frame = dataset.read(path, columns)
        else:
            frame = pq.ParquetFile(path).read_row_group(part.group, columns=columns).to_pandas()
    except DataError:
        raise
    except Exception as exc:  # what reading the whole file would have said
        raise dataset._unreadable(path, part.key, exc) from exc
    if part.group is None:
        problems = dataset.file_problems(path, frame)
        if problems:
            raise DataError(f"{dataset.name} dataset {part.key}: {path}: " + "; ".join(problems))
        if not len(frame):
            raise _no_rows(dataset, part.key, path)
    out = pd.DataFrame({"user": frame[dataset.user_col].to_numpy(),
                        "item": frame[dataset.item_col].to_numpy()})
    if dataset.rating_col is not None:
        out[RATING] = numeric(frame[dataset.rating_col], path)
    if dataset.timestamp_col is not None:
        out[TIMESTAMP] = np.asarray(seconds(frame[dataset.timestamp_col], path), np.float64)
    if part.key != "path":
        out[SPLIT] = part.key
    out[FILE] = np.int64(part.file)
    out[ROW] = part.offset + np.arange(len(out), dtype=np.int64)
    return out
