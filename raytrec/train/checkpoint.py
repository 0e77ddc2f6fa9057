"""What a checkpoint holds, written so that an interrupted write is never taken for one, and
read so that a damaged one is named and passed over for the one before it."""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from raytrec.errors import RunDirError
from raytrec.layout import CHECKPOINT_CONFIG, STATE_FILE
from raytrec.train.shard_state import Placement, place

if TYPE_CHECKING:
    from raytrec.config.run_config import RunConfig

logger = logging.getLogger(__name__)



def write_json(path: Path, payload: dict[str, Any]) -> None:
    """``payload`` as JSON at ``path``, replaced whole."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True))
    tmp.replace(path)


def write_checkpoint(directory: Path, state: dict[str, Any], config: RunConfig) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CHECKPOINT_CONFIG).write_text(json.dumps(config.to_dict(), indent=2))
    tmp = directory / (STATE_FILE + ".tmp")
    torch.save(state, tmp)
    tmp.rename(directory / STATE_FILE)
    return directory


def damage(path: Path) -> str | None:
    """Why a saved torch file is visibly damaged (empty, truncated), or None. Cheap: it reads
    the zip directory at the file's end, not the tensors."""
    try:
        if Path(path).stat().st_size == 0:
            return "the file is empty"
        with zipfile.ZipFile(path) as archive:
            archive.namelist()
    except FileNotFoundError:
        return "the file is missing"
    except (OSError, zipfile.BadZipFile) as exc:
        return f"truncated or not a torch file: {exc}"
    return None


def load_file(path: Path, what: str = "checkpoint") -> dict[str, Any]:
    """``torch.load`` of a raytrec state file on the CPU; RunDirError naming it if it fails."""
    try:
        return torch.load(path, weights_only=False, map_location="cpu")
    except Exception as exc:  # torch raises RuntimeError, EOFError, pickle errors...
        cause = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunDirError(f"{what} {path} cannot be read ({cause})") from exc


def newest_readable(directories: list[Path], placement: Placement | None = None,
                    tables: dict[str, int] | None = None) -> dict[str, Any] | None:
    """The state of the newest checkpoint directory that can be read (``directories`` oldest
    first); damaged ones are passed over with a warning. None when there are none; RunDirError
    naming each file when none can be read. The rows of sharded ID tables are those of
    ``placement`` (a worker's, with the ``tables`` it holds; ``shard_state.place``), or whole
    tables."""
    failures = []
    for directory in reversed(directories):
        path = Path(directory) / STATE_FILE
        try:
            return place(load_file(path), directory, placement, tables, load_file)
        except RunDirError as exc:
            # Damage the cheap check sees was already reported by the driver before resuming.
            level = logging.INFO if damage(path) else logging.WARNING
            logger.log(level, "%s; trying the checkpoint before it", exc)
            failures.append(str(exc))
    if failures:
        raise RunDirError("no checkpoint can be read: " + "; ".join(failures) +
                          "; start the run again with --overwrite")
    return None
