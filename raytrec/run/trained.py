"""A finished run's model, rebuilt from its config and loaded from its ``model.pt``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raytrec.data.base import DataInfo
from raytrec.errors import RunDirError
from raytrec.mappers import Mapper
from raytrec.plugins import get_registry
from raytrec.run.launch import MODEL_FILE
from raytrec.train.checkpoint import load_file


def create_mapper(config: dict[str, Any]) -> Mapper:
    """The config's mapper, not yet set up."""
    section = config["mapper"]
    return get_registry().create("mapper", section["name"],
                                 **{k: v for k, v in section.items() if k != "name"})


def model_path(run_dir: Path) -> Path:
    """``model.pt`` of ``run_dir``; a clear error when the run has not finished."""
    path = Path(run_dir) / MODEL_FILE
    if not path.is_file():
        raise RunDirError(f"{path} is missing: the run has not finished; "
                          f"use raytrec train --resume {run_dir}")
    return path


def load_trained(run_dir: Path, mapper: Mapper, info: DataInfo) -> Mapper:
    """``mapper`` set up on the run's data and holding its best model, in eval mode."""
    path = model_path(run_dir)
    mapper.setup(info)
    again = f"raytrec train --resume {run_dir} writes it again from the last checkpoint"
    try:
        mapper.load_state_dict(load_file(path, "model")["model"])
    except RunDirError as exc:
        raise RunDirError(f"{exc}; {again}") from None
    except (KeyError, TypeError, RuntimeError) as exc:
        raise RunDirError(f"model {path} does not hold this run's model "
                          f"({str(exc).splitlines()[0]}); {again}") from None
    return mapper.eval()
