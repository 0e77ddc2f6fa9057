"""An export's files as ``raytrec export`` wrote them: each file's size and SHA-256 kept in the
manifest (``files``), checked before anything is served, so that a damaged, truncated, replaced
or missing file is one message naming it, not a FAISS or numpy error."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from raytrec.errors import RunDirError

AGAIN = "export the run again with raytrec export RUN_DIR --out DIR --overwrite"


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            sha.update(block)
    return sha.hexdigest()


def fingerprints(directory: Path, skip: str) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of every file in ``directory`` but ``skip`` (the manifest)."""
    return {p.name: {"bytes": p.stat().st_size, "sha256": digest(p)}
            for p in sorted(Path(directory).iterdir()) if p.is_file() and p.name != skip}


def check_files(directory: Path, manifest: dict[str, Any]) -> None:
    """RunDirError naming the first file that is missing or not as exported (an export made
    before the manifest listed its files is not checked)."""
    for name, expected in sorted(manifest.get("files", {}).items()):
        path = Path(directory) / name
        if not path.is_file():
            raise RunDirError(f"{path} is missing from the export; {AGAIN}")
        size = path.stat().st_size
        if size != expected["bytes"]:
            raise RunDirError(f"{path} has {size} bytes, but the export wrote "
                              f"{expected['bytes']} (it was cut short or replaced); {AGAIN}")
        if digest(path) != expected["sha256"]:
            raise RunDirError(f"{path} is not the file the export wrote (its SHA-256 differs "
                              f"from manifest.json's); {AGAIN}")


def check_counts(directory: Path, manifest: dict[str, Any], num_users: int,
                 num_items: int) -> None:
    """The vectors read against the manifest's counts."""
    for what, found in (("items", num_items), ("users", num_users)):
        if found != manifest[f"num_{what}"]:
            raise RunDirError(f"{directory} holds {found} {what}, but its manifest.json says "
                              f"{manifest[f'num_{what}']}: its files come from different "
                              f"exports; {AGAIN}")
