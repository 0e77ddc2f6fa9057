"""Cases of the group "data files": a FIFO, gzip, latin-1, tab-separated, a header repeated
mid-file or naming a column twice, a BOM, empty and header-only files, a directory, parquet
ids that are lists or structs, ids typed differently in two files, and test users with fewer
candidates than K. Exit 0 without a word where data was misread is "silent".
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bad_checks import data_info, dir_state
from bad_context import Case, Ctx, Plan, Setup, csv_data, interactions, new_case
from bad_runner import Result

GROUP = "data files"
HEADER = "user_id,item_id"
ROWS = interactions()
TEXT = HEADER + "\n" + "".join(f"{u},{i}\n" for u, i in ROWS)


def data_case(write: Callable[[Path], None], name: str = "d.csv", **extra: Any) -> Setup:
    def setup(ctx: Ctx) -> Plan:
        path = ctx.root / name
        write(path)
        data = csv_data(path, **extra) if not name.endswith(".parquet") else {
            "name": "parquet", "path": str(path)}
        return Plan(["train", ctx.config(data=data), "--run-dir", "run"])

    return setup


def check_data(ctx: Ctx, result: Result) -> str:
    return f"{dir_state(ctx.root)}; {data_info(ctx.root)}"


def silent_unless(*words: str) -> Callable[[Ctx, Result], str]:
    """Exit 0 without any of ``words`` in the output: the bad data went in unnoticed."""

    def check(ctx: Ctx, result: Result) -> str:
        said = (result.stdout + result.stderr).lower()
        named = [w for w in words if w in said]
        if result.exit == 0 and not named:
            ctx.flag("silent", f"exit 0 and no mention of {', '.join(words)}")
        return f"mentions {named or 'none of ' + str(list(words))}; {check_data(ctx, result)}"

    return check


def fifo(path: Path) -> None:
    os.mkfifo(path)


def gz(path: Path) -> None:
    path.write_bytes(gzip.compress(TEXT.encode()))


def latin1(path: Path) -> None:
    path.write_bytes((HEADER + "\n" + "".join(f"u{u}é,{i}\n" for u, i in ROWS))
                     .encode("latin-1"))


def tsv(path: Path) -> None:
    path.write_text(TEXT.replace(",", "\t"))


def repeated_header(path: Path) -> None:
    half = len(ROWS) // 2
    body = ["".join(f"{u},{i}\n" for u, i in part) for part in (ROWS[:half], ROWS[half:])]
    path.write_text(f"{HEADER}\n{body[0]}{HEADER}\n{body[1]}")


def duplicate_column(path: Path) -> None:
    path.write_text("user_id,item_id,item_id\n" + "".join(f"{u},{i},{int(i) + 1}\n"
                                                           for u, i in ROWS))


def bom(path: Path) -> None:
    path.write_bytes(b"\xef\xbb\xbf" + TEXT.encode())


def empty(path: Path) -> None:
    path.write_bytes(b"")


def header_only(path: Path) -> None:
    path.write_text(HEADER + "\n")


def directory(path: Path) -> None:
    """A folder of parts, as Spark writes ``d.csv``: read as one table."""
    path.mkdir()
    (path / "part-0.csv").write_text(TEXT)
    (path / "_SUCCESS").write_bytes(b"")


def markers_only(path: Path) -> None:
    """A folder whose write never finished: Spark's ``_temporary`` and nothing else."""
    (path / "_temporary" / "0").mkdir(parents=True)
    (path / "_temporary" / "0" / "part-0.csv").write_text(TEXT)


def parquet_ids(kind: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        users: list[Any] = [[int(u)] if kind == "list" else {"id": int(u)} for u, _ in ROWS]
        pq.write_table(pa.table({"user_id": users, "item_id": [int(i) for _, i in ROWS]}),
                       path)

    return write


def setup_float_vs_text(ctx: Ctx) -> Plan:
    """Item features keyed "1.0", "2.0" (written from floats) against items "1", "2"."""
    path = ctx.root / "d.csv"
    path.write_text(TEXT)
    feats = ctx.root / "items.csv"
    feats.write_text("item_id,price\n" + "".join(f"{i}.0,{i * 1.5}\n" for i in range(1, 101)))
    data = csv_data(path, item_features=str(feats))
    return Plan(["train", ctx.config(data=data, mapper={"name": "embedding", "dim": 16,
                                                        "distance": "l2", "max_norm": 1.0}),
                 "--run-dir", "run"])


def setup_few_candidates(ctx: Ctx) -> Plan:
    """30 items, 26 seen per user: about 4 candidates left per test user against K=20."""
    rows = interactions(users=200, items=30, per_user=26)
    path = ctx.root / "d.csv"
    path.write_text(HEADER + "\n" + "".join(f"{u},{i}\n" for u, i in rows))
    return Plan(["train", ctx.config(data=csv_data(path)), "--run-dir", "run"])


INPUT_CASES: list[Case] = [
    new_case("data-fifo", GROUP, data_case(fifo), check_data, 60),
    new_case("data-gzip-csv", GROUP, data_case(gz), check_data),
    new_case("data-gzip-named-gz", GROUP, data_case(gz, "d.csv.gz"), check_data),
    new_case("data-latin1", GROUP, data_case(latin1), check_data),
    new_case("data-tab-separated", GROUP, data_case(tsv), check_data),
    new_case("data-repeated-header", GROUP, data_case(repeated_header),
             silent_unless("header", "line")),
    new_case("data-duplicate-column", GROUP, data_case(duplicate_column),
             silent_unless("twice", "duplicate", "item_id.1")),
    new_case("data-bom", GROUP, data_case(bom), check_data),
    new_case("data-empty-file", GROUP, data_case(empty), check_data),
    new_case("data-header-only", GROUP, data_case(header_only), check_data),
    new_case("data-directory", GROUP, data_case(directory), check_data),
    new_case("data-directory-unfinished", GROUP, data_case(markers_only), check_data),
    new_case("parquet-list-ids", GROUP, data_case(parquet_ids("list"), "d.parquet"),
             check_data),
    new_case("parquet-struct-ids", GROUP, data_case(parquet_ids("struct"), "d.parquet"),
             check_data),
    new_case("ids-float-vs-text", GROUP, setup_float_vs_text,
             silent_unless("1.0", "float", "no row")),
    new_case("few-candidates-vs-k", GROUP, setup_few_candidates,
             silent_unless("candidates", "warning")),
]
