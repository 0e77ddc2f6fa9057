"""The names of what a run (or tune) directory holds, stated once for every layer: the
driver that creates it, the workers that checkpoint into it, the readers of a finished run.

Every directory raytrec creates holds a marker file, ``MARKER``: what raytrec made (and so may
replace or remove), and for the mirror of a run at a URI the URI it stands for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MARKER = ".raytrec"
CONFIG_FILE = "config.yaml"  # the run's resolved config (``RunConfig.to_yaml``)
PROGRESS_FILE = "progress.jsonl"  # one line of metrics per epoch, as training goes
MODEL_FILE = "model.pt"  # a finished run's final state (its last checkpoint's STATE_FILE)
LOGS = "logs"  # where a failed run keeps its error (raytrec.run.failures)
RAY_STORAGE = "ray"  # Ray Train's (or Tune's) storage: its checkpoints
STATE_FILE = "state.pt"  # a checkpoint's state; its presence says the checkpoint is complete
CHECKPOINT_CONFIG = "config.json"  # the resolved config a checkpoint was written with
# Each worker's rows of the sharded ID tables in a checkpoint of a ``train.sharding: rows`` run
SHARD_FILE = "shard-{rank:05d}-of-{world:05d}.pt"
METRICS_FILE = "metrics.json"  # a finished run's summary


def read_marker(directory: Path) -> dict[str, Any] | None:
    """The marker of a directory raytrec made, or None."""
    path = Path(directory) / MARKER
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # a damaged marker still says raytrec made the directory


def write_marker(directory: Path, content: dict[str, Any]) -> None:
    tmp = directory / (MARKER + ".tmp")
    tmp.write_text(json.dumps(content, indent=2))
    tmp.replace(directory / MARKER)
