"""What a checkpoint holds, written so that an interrupted write is never taken for one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

STATE_FILE = "state.pt"


def write_checkpoint(directory: Path, state: dict[str, Any], config: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config, indent=2))
    tmp = directory / (STATE_FILE + ".tmp")
    torch.save(state, tmp)
    tmp.rename(directory / STATE_FILE)
    return directory


def cpu_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}
