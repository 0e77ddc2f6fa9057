"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/tracking_overhead.py [--epochs 30]
    [--repeats 2] [--out FILE]

What tracking costs a run: ``raytrec train examples/cml_ml100k.yaml`` on MovieLens-100K for a
fixed number of epochs (``train.patience: null``), in one process (``scaling.num_workers: 0``:
no Ray start-up in the figures), with ``tracking.backend`` none, mlflow (a
SQLite store in a temporary folder, no server) and tensorboard, each as its own ``raytrec``
process, in turns (none, mlflow, tensorboard, none, ...), so that the machine's drift falls
on all three. One JSON line per run: the backend, the wall time of the process, and the
seconds the run itself reported (``train/epoch_seconds`` summed); then the median of each
backend against ``none``'s.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common.setup import arguments, emit, start_benchmark

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "examples" / "cml_ml100k.yaml"


def one(backend: str, folder: Path, epochs: int) -> dict[str, object]:
    run = folder / f"run-{backend}-{time.time_ns()}"
    tracking = {"none": "{backend: none}", "tensorboard": "{backend: tensorboard}",
                "mlflow": f"{{backend: mlflow, uri: 'sqlite:///{folder}/mlflow.db'}}"}[backend]
    command = [str(ROOT / ".venv" / "bin" / "raytrec"), "train", str(CONFIG), "--run-dir",
               str(run), "--set", f"train.epochs={epochs}", "--set", "train.patience=null",
               "--set", "scaling.num_workers=0", "--set", f"tracking={tracking}"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        return {"backend": backend, "failed": done.stderr[-1500:]}
    rows = [json.loads(line) for line in (run / "progress.jsonl").read_text().splitlines()]
    training = sum(r.get("train/epoch_seconds", 0.0) for r in rows)
    return {"backend": backend, "epochs": epochs, "wall_s": round(wall, 2),
            "training_s": round(training, 2), "warnings": done.stderr.count("WARNING")}


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path)
    options = parser.parse_args()
    start_benchmark()
    folder = Path(tempfile.mkdtemp(prefix="tracking-overhead-"))
    walls: dict[str, list[float]] = {"none": [], "mlflow": [], "tensorboard": []}
    for _ in range(options.repeats):
        for backend in walls:
            line = one(backend, folder, options.epochs)
            emit(line, options.out)
            if "wall_s" in line:
                walls[backend].append(float(line["wall_s"]))
    base = statistics.median(walls["none"])
    emit({"median_wall_s": {k: statistics.median(v) for k, v in walls.items() if v},
          "vs_none": {k: round(statistics.median(v) / base, 3) for k, v in walls.items() if v}},
         options.out)


if __name__ == "__main__":
    main()
