"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/cluster.py [--out DIR]

raytrec on a real Ray cluster of this machine (``ray start --head``, 2 CPUs, its own ports):

1. ``raytrec submit`` of ``CONFIG`` (2 Ray Train workers, 8 epochs on synthetic data): the
   size of the staged working directory (config and wheels), and submit-to-first-epoch: from
   the call of ``submit`` to the first epoch in the run's ``progress.jsonl``. The first
   submission also builds the job's pip environment on the cluster; the second, with the same
   wheels, reuses it; both are timed.
2. The same run again, with one ``RayTrainWorker`` killed (SIGKILL, its pid from Ray's state
   API) once the run has two checkpoints: the timeline (kill, the new workers up, the first
   epoch after the restart), the epochs trained twice, and the final test metrics against
   the uninterrupted run's.

One JSON object to ``--out``/cluster.json (default ``benchmarks/out``) and stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from raytrec.cluster.jobs import connect, wait_until_done
from raytrec.cluster.submit import Request, submit
from raytrec.testing.cluster import start_head, train_workers, wait_for

CONFIG = {
    "data": {"name": "synthetic", "num_users": 2000, "num_items": 1000,
             "interactions_per_user": 30, "num_clusters": 10, "seed": 1},
    "mapper": {"name": "embedding", "dim": 32, "distance": "l2", "max_norm": 1.0},
    "sampler": {"name": "uniform", "num_negatives": 10},
    "train": {"epochs": 8, "batch_size": 1024, "lr": 0.1, "seed": 0},
    "eval": {"ks": [10, 20], "metric": "recall@20"},
    "scaling": {"num_workers": 2, "cpus_per_worker": 1},
}
RUN_TIMEOUT_S = 600.0


def progress(run_dir: Path) -> list[dict]:
    path = run_dir / "progress.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() \
        else []


def run(address: str, config: Path, run_dir: Path) -> tuple[str, float, int]:
    started = time.time()
    done = submit(Request(str(config), [], str(run_dir), None, False, False, [], [], []),
                  address, lambda line: None)
    return done.job_id, started, done.staged_bytes


def finish(address: str, job_id: str) -> str:
    return wait_until_done(connect(address), job_id, RUN_TIMEOUT_S)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(Path(__file__).parent / "out"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="raytrec-cluster-bench-"))
    config = work / "config.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    head = start_head(num_cpus=2)
    result: dict = {"config": CONFIG}
    try:
        runs = {}
        for name in ("first", "reference"):
            job, started, size = run(head.address, config, work / name)
            first = wait_for(lambda d=work / name: progress(d), RUN_TIMEOUT_S, "first epoch")
            result[f"submit_to_first_epoch_s_{name}"] = round(first[0]["time"] - started, 1)
            result["staged_mib"] = round(size / 1024**2, 3)
            result[f"status_{name}"] = finish(head.address, job)
            runs[name] = json.loads((work / name / "metrics.json").read_text())

        job, started, _ = run(head.address, config, work / "fault")
        checkpoints = work / "fault" / "ray" / "train"
        wait_for(lambda: len(list(checkpoints.glob("checkpoint_*"))) >= 2, RUN_TIMEOUT_S,
                 "two checkpoints")
        before = train_workers(head.address)
        done_before = max(p["epoch"] for p in progress(work / "fault"))
        killed = time.time()
        os.kill(before[0], signal.SIGKILL)
        restarted = wait_for(lambda: (w := train_workers(head.address)) and
                             not set(w) & set(before) and len(w) == len(before) and
                             time.time(), RUN_TIMEOUT_S, "new workers")
        after = wait_for(lambda: [p for p in progress(work / "fault") if p["time"] > killed],
                         RUN_TIMEOUT_S, "an epoch after the restart")[0]
        result["status_fault"] = finish(head.address, job)
        epochs = [p["epoch"] for p in progress(work / "fault")]
        fault = json.loads((work / "fault" / "metrics.json").read_text())
        ref = runs["reference"]
        result["fault"] = {
            "epochs_reported_before_kill": done_before,
            "kill_s_after_submit": round(killed - started, 1),
            "workers_up_again_s_after_kill": round(restarted - killed, 1),
            "first_epoch_after_kill_s": round(after["time"] - killed, 1),
            "first_epoch_after_kill": after["epoch"],
            "epochs_trained_twice": len(epochs) - len(set(epochs)),
            "test": fault["test"],
            "reference_test": ref["test"],
            "largest_relative_difference": max(
                abs(fault["test"][k] - v) / abs(v) for k, v in ref["test"].items()
                if isinstance(v, float) and v),
        }
    finally:
        head.stop()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "cluster.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
