"""What every benchmark does first."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path


def start_benchmark(level: int = logging.INFO) -> None:
    """Ray without its auth token (a private local cluster), timed log lines on stderr, and
    FAISS's loader quiet."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's command line, its docstring as the help."""
    return argparse.ArgumentParser(description=doc,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def emit(line: dict, out: Path | None) -> None:
    """One JSON line of figures on stdout, also appended to ``out`` when given."""
    print(json.dumps(line), flush=True)
    if out:
        with open(out, "a") as fh:
            fh.write(json.dumps(line) + "\n")
