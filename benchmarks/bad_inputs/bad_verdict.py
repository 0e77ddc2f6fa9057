"""One verdict per record, and the counts under the --compare table.

The verdicts, worst first: hang (the case's timeout killed it), traceback (a Python traceback,
a "please report it" internal error, or Ray's C++ stack dump), data loss (a sentinel or a
user's file gone or changed, a run directory mixing two runs), silent (a bad input accepted
without a word), leftover (a partial file or a temp folder left), ok. The generic ones come
from the command's output; data loss, silent and leftover from the case's check
(``Ctx.flag``) and from ``bad_leftovers``.
"""

from __future__ import annotations

import re
from typing import Any

from bad_runner import TRACEBACK, Result

ORDER = ("hang", "traceback", "data loss", "silent", "leftover")
COUNTED = {"hang": "hangs", "traceback": "tracebacks", "leftover": "leftovers",
           "data loss": "data loss", "silent": "silent"}
INTERNAL = re.compile(r"please report it", re.IGNORECASE)
CPP_DUMP = re.compile(r"\*\*\* (SIG\w+ received|Aborted at)|^\s*@\s+0x[0-9a-f]+ ", re.MULTILINE)


def output_flags(result: Result) -> dict[str, str]:
    flags: dict[str, str] = {}
    if result.timed_out:
        flags["hang"] = "killed by the case's timeout"
    if TRACEBACK in result.stderr:
        flags["traceback"] = "Python traceback on stderr"
    elif INTERNAL.search(result.stderr):
        flags["traceback"] = "an internal error ('please report it')"
    elif CPP_DUMP.search(result.stderr):
        flags["traceback"] = "Ray's C++ stack dump on stderr"
    return flags


def verdict(flags: dict[str, str]) -> str:
    return next((v for v in ORDER if v in flags), "ok")


def record_flags(record: dict[str, Any]) -> set[str]:
    """Flags of a record, also of one written before verdicts existed (exit and traceback)."""
    if "flags" in record:
        return set(record["flags"])
    found = set()
    if record.get("exit") == "timeout":
        found.add("hang")
    if record.get("traceback"):
        found.add("traceback")
    return found


def summary(label: str, records: list[dict[str, Any]]) -> str:
    ran = [r for r in records if not r.get("setup_error")]
    counts = {name: sum(1 for r in ran if flag in record_flags(r))
              for flag, name in COUNTED.items()}
    ok = sum(1 for r in ran if not record_flags(r))
    text = ", ".join(f"{n} {name}" for name, n in counts.items())
    return f"{label}: {len(ran)} cases: {text}; {ok} with none of these"
