"""The Markdown before/after table of two JSONL runs, with the verdict counts under it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bad_verdict import summary


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def cell(record: dict[str, Any] | None, width: int = 110) -> str:
    if record is None:
        return "–"
    if record.get("setup_error"):
        return f"setup failed: {record['setup_error'][:width]}"
    text = str(record.get("message", ""))
    text = text if len(text) <= width else text[: width - 1] + "…"
    head = f"exit {record['exit']} ({record['seconds']} s)"
    if "verdict" in record:
        head = f"**{record['verdict']}**, {head}"
    parts = [head, f"`{text}`" if text else "–", str(record.get("files", ""))]
    parts += [str(record[k]) for k in ("sentinels", "leftovers") if record.get(k)]
    return "; ".join(parts).replace("|", "\\|").replace("\n", " ")


def compare(before_path: Path, after_path: Path, order: list[str]) -> str:
    before = {r["id"]: r for r in read_jsonl(before_path)}
    after = {r["id"]: r for r in read_jsonl(after_path)}
    ids = [i for i in order if i in before or i in after]
    ids += sorted((set(before) | set(after)) - set(ids))
    lines = ["| case | group | before (exit, message, files) | after (exit, message, files) |",
             "| --- | --- | --- | --- |"]
    for case_id in ids:
        group = (before.get(case_id) or after.get(case_id) or {}).get("group", "")
        lines.append(f"| {case_id} | {group} | {cell(before.get(case_id))} | "
                     f"{cell(after.get(case_id))} |")
    lines += ["", summary("before", [before[i] for i in ids if i in before]),
              summary("after", [after[i] for i in ids if i in after])]
    return "\n".join(lines)
