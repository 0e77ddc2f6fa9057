"""What a data file is before it is parsed, and what its header and id columns hold: each
problem as a sentence that names the file and what to do.

- ``not_a_file``: a directory, a named pipe (never opened: reading one would wait for a
  writer), a link that leads nowhere, or nothing.
- ``compression``: gzip, bz2, xz, zstd or zip, known by the file's first bytes whatever its
  name, so that a ``data.csv`` that is gzipped is read, not taken for broken text;
  ``compressed_problem``: one cut short, or whose codec's package is not installed.
- ``text_format_problem``, ``not_parquet``: a file of the other format (Parquet given as CSV,
  CSV as Parquet) or UTF-16 text, known by its first bytes.
- ``not_text``: where a file stops being text in its encoding (line and byte).
- ``header_problems``: a column named twice in a CSV header, the header repeated on later
  lines (two files concatenated).
- ``nested_id_types``: Parquet id columns holding lists, structs or maps instead of one id.
"""

from __future__ import annotations

import codecs
import lzma
import zlib
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa

from raytrec.data.base import rows_text

MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz",
         b"\x28\xb5\x2f\xfd": "zstd", b"PK\x03\x04": "zip"}
SEPARATORS = {"\t": "\\t", ";": ";", "|": "|", ",": ","}
PARQUET = b"PAR1"
UTF16 = (b"\xff\xfe", b"\xfe\xff")  # byte-order marks (Excel's "Unicode text", PowerShell)
# What reading a file can raise besides OSError and ValueError: a cut-short or corrupt
# compressed stream, and pandas's ImportError for a codec whose package is not installed.
READ_ERRORS = (OSError, ValueError, EOFError, ImportError, lzma.LZMAError, zlib.error,
               pa.ArrowException)
CHUNK = 1 << 24
NEWLINE = b"\n"


def not_a_file(path: Path) -> str | None:
    """Why ``path`` cannot be read as a data file, or None when it can."""
    if path.is_file():
        return None
    if path.is_dir():
        return "is a directory, not a file"
    if path.exists():
        return ("is not a regular file (a named pipe, socket or device); raytrec reads a data "
                "file more than once, so write the data to a file and point to it")
    if path.is_symlink():
        return "is a symbolic link to a file that does not exist"
    return "does not exist"


def head(path: Path, size: int = 64) -> bytes:
    """The first bytes of ``path`` (a regular file: ``not_a_file`` came first)."""
    with open(path, "rb") as fh:
        return fh.read(size)


def compression(path: Path) -> str | None:
    """The compression of ``path`` by its first bytes, or None for a plain file."""
    start = head(path, 6)
    return next((name for magic, name in MAGIC.items() if start.startswith(magic)), None)


def compressed_problem(path: Path, exc: BaseException) -> str | None:
    """Why a compressed ``path`` could not be read (``exc`` raised reading it), or None."""
    kind = compression(path)
    if kind is None or isinstance(exc, UnicodeDecodeError):
        return None
    if isinstance(exc, ImportError):
        return (f"is {kind}-compressed and reading it needs the {_PACKAGES.get(kind, kind)} "
                f"package: pip install {_PACKAGES.get(kind, kind)}, or decompress the file "
                "and point to the result")
    if isinstance(exc, EOFError | lzma.LZMAError | zlib.error | OSError):
        return (f"is {kind}-compressed but cannot be decompressed ({exc}); it is cut short "
                "or damaged: copy it again, or decompress it yourself to see where it ends")
    return None


_PACKAGES = {"zstd": "zstandard"}


def text_format_problem(path: Path, encoding: str) -> str | None:
    """What a file given as delimited text is instead (Parquet, UTF-16), or None."""
    start = head(path)
    if start.startswith(PARQUET):
        return "is a Parquet file, not CSV text; set data.name: parquet"
    if start.startswith(UTF16) and not encoding.lower().replace("-", "").startswith("utf16"):
        return ("is UTF-16 text (it starts with a UTF-16 byte-order mark); set the dataset's "
                "encoding: utf-16, or save it as UTF-8")
    return None


def not_parquet(path: Path) -> str | None:
    """What a file given as Parquet is instead (text: its first line), or None."""
    start = head(path)
    if start.startswith(PARQUET) or compression(path):
        return None
    try:
        first = start.decode("utf-8").splitlines()[0][:40]
    except (UnicodeDecodeError, IndexError):
        return None
    return f"is not a Parquet file: it starts as text ({first!r}); for CSV text set " \
           "data.name: csv"


def not_text(path: Path, encoding: str, compressed: str | None) -> str | None:
    """Where ``path`` (uncompressed) stops being ``encoding`` text, or None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line, offset = 1, 0
    opened = _open_compressed(path, compressed)
    with opened as fh:
        while chunk := fh.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = max(0, exc.start)
                byte = chunk[at] if at < len(chunk) else 0
                where = line + chunk.count(NEWLINE, 0, at)
                return f"is not {encoding} text: byte 0x{byte:02x} on line {where} (byte " \
                       f"{offset + at})"
            line += chunk.count(NEWLINE)
            offset += len(chunk)
    return None


def _open_compressed(path: Path, compressed: str | None) -> IO[bytes]:
    if compressed == "gzip":
        import gzip

        return gzip.open(path, "rb")
    if compressed == "bz2":
        import bz2

        return bz2.open(path, "rb")
    if compressed == "xz":
        import lzma

        return lzma.open(path, "rb")
    return open(path, "rb")  # zip and zstd: pandas's own error is kept


def header_problems(header: list[str], frame: pd.DataFrame, id_cols: list[str]) -> list[str]:
    """A CSV's problems with its header: a name given twice; the header again in the rows
    (``frame`` read with ids as text; line 1 is the header)."""
    problems = []
    seen: dict[str, int] = {}
    for position, name in enumerate(header, 1):
        if name in seen:
            problems.append(f"its header names column '{name}' twice (columns {seen[name]} and "
                            f"{position}); rename one")
        seen.setdefault(name, position)
    present = [c for c in id_cols if c in frame.columns]
    if present:
        again = np.logical_and.reduce([frame[c].to_numpy() == c for c in present])
        rows = np.flatnonzero(again)
        if len(rows):
            word = "line" if len(rows) == 1 else "lines"
            problems.append(f"its header is repeated on {rows_text(rows, first=2, word=word)}"
                            " (files concatenated?); remove those lines")
    return problems


def nested_id_types(schema: pa.Schema, id_cols: list[str]) -> list[str]:
    """Parquet id columns whose values are not one id each."""
    problems = []
    for col in id_cols:
        if col not in schema.names:
            continue
        kind = schema.field(col).type
        if pa.types.is_nested(kind) or pa.types.is_null(kind):
            problems.append(f"column '{col}' holds {kind} values, but an id is one integer or "
                            "text per row: write one row per id, or choose another column")
    return problems


def separator_hint(have: list[str], current: str = ",") -> str | None:
    """The ``sep`` a one-column header suggests (``user_id\\titem_id``: a tab), or None."""
    if len(have) != 1:
        return None
    return next((shown for sep, shown in SEPARATORS.items()
                 if sep != current and sep in have[0]), None)
