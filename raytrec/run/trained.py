"""A run's model, rebuilt from its config and loaded from its ``model.pt`` (or, while it
trains, from its newest complete checkpoint)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raytrec.data.base import DataInfo
from raytrec.errors import RunDirError
from raytrec.layout import MODEL_FILE
from raytrec.mappers import Mapper
from raytrec.train.checkpoint import STATE_FILE, load_file, newest_readable


def model_path(run_dir: Path) -> Path:
    """``model.pt`` of ``run_dir``, or the newest complete checkpoint of a run that has not
    finished (training, or interrupted); a clear error when it has neither."""
    from raytrec.run.launch import checkpoint_dirs

    path = Path(run_dir) / MODEL_FILE
    if path.is_file():
        return path
    found = checkpoint_dirs(run_dir)
    if not found:
        raise RunDirError(f"{path} is missing and the run has no checkpoint yet: the run has "
                          f"not finished; use raytrec train --resume {run_dir}")
    return found[-1] / STATE_FILE


def trained_state(run_dir: Path) -> dict[str, Any]:
    """The run's best model: from ``model.pt``; before the run finishes, the best so far of
    its newest readable checkpoint."""
    from raytrec.run.launch import checkpoint_dirs

    path = model_path(run_dir)
    if path.name == MODEL_FILE:
        return load_file(path, "model")["model"]
    state = newest_readable(checkpoint_dirs(run_dir)) or {}
    best = (state.get("tracker") or {}).get("best_state")
    return best if best is not None else state["model"]


def load_trained(run_dir: Path, mapper: Mapper, info: DataInfo) -> Mapper:
    """``mapper`` set up on the run's data and holding its best model, in eval mode (see
    ``trained_state``)."""
    mapper.setup(info)
    again = f"raytrec train --resume {run_dir} writes it again from the last checkpoint"
    try:
        mapper.load_state_dict(trained_state(run_dir))
    except RunDirError as exc:
        raise RunDirError(f"{exc}; {again}") from None
    except (KeyError, TypeError, RuntimeError) as exc:
        raise RunDirError(f"model {model_path(run_dir)} does not hold this run's model "
                          f"({str(exc).splitlines()[0]}); {again}") from None
    return mapper.eval()
