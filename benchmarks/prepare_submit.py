"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/prepare_submit.py [--rows 1e7]
    [--dir DIR] [--out FILE]

Preparation with ``prepare.engine: ray`` the way a real cluster runs it: ``raytrec submit``
to a Ray cluster of this machine (``ray start --head``, 2 CPUs, its own ports), whose job
driver runs ``raytrec train`` and its Ray Data stages on the cluster. The data are the
synthetic interactions of ``prepare_engines.py`` (one Parquet file). Timed: from the call of
``submit`` to the run directory in place (data prepared, the config checked against it),
and the job driver's peak RSS over that time (sampled every 0.2 s). A warm-up submission of
10k rows first builds the job's environment, so the figure is preparation, not pip. The job
is stopped once its run directory is in place: training is not what is measured.

One JSON line on stdout (and appended to ``--out``).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import yaml
from common.setup import arguments, emit, start_benchmark
from prepare_engines import write_events

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from raytrec.cluster.jobs import connect, wait_until_done
from raytrec.cluster.submit import Request, submit
from raytrec.testing.cluster import start_head

TIMEOUT_S = 3600.0


def config(events: Path) -> dict:
    return {"data": {"name": "parquet", "path": str(events), "user_col": "user_id",
                     "item_col": "item_id", "rating_col": "rating", "timestamp_col": "ts"},
            "prepare": {"engine": "ray"},
            "mapper": {"name": "embedding", "dim": 8, "distance": "l2", "max_norm": 1.0},
            "train": {"epochs": 1}, "scaling": {"num_workers": 0}}


def driver_rss(run_dir: Path) -> int:
    """RSS of the job's driver (the ``raytrec train`` process writing ``run_dir``), bytes,
    from ``/proc``."""
    found = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            line = (proc / "cmdline").read_bytes().split(b"\0")
            if str(run_dir).encode() in line and b"train" in line:
                status = (proc / "status").read_text()
                rss = next(int(row.split()[1]) for row in status.splitlines()
                           if row.startswith("VmRSS:"))
                found = max(found, rss * 1024)
        except (OSError, StopIteration, ValueError):
            continue  # gone meanwhile
    return found


def prepared(address: str, work: Path, events: Path, name: str) -> dict[str, float]:
    """Submit a run of ``events``; its time to a run directory in place, then stop it."""
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config(events)))
    run_dir = work / name
    started = time.time()
    # The data stays where it is (``--shared``): every node of this cluster sees it.
    done = submit(Request(str(path), [], str(run_dir), None, False, False, [str(work)], [], []),
                  address, lambda line: None)
    client, peak = connect(address), 0
    while not (run_dir / "config.yaml").exists():
        peak = max(peak, driver_rss(run_dir))
        status = str(client.get_job_info(done.job_id).status)
        if status in ("FAILED", "STOPPED", "SUCCEEDED") or time.time() - started > TIMEOUT_S:
            raise RuntimeError(f"job {done.job_id}: {status}: "
                               f"{client.get_job_logs(done.job_id)[-3000:]}")
        time.sleep(0.2)
    seconds = time.time() - started
    client.stop_job(done.job_id)
    wait_until_done(client, done.job_id, 120)
    info = json.loads((run_dir / "data" / "info.json").read_text())
    return {"submit_to_prepared_s": round(seconds, 1),
            "job_driver_peak_rss_mb": round(peak / 2**20),
            "num_interactions": info["num_interactions"]}


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--rows", default="1e7")
    parser.add_argument("--dir", type=Path, help="where the data and the runs go")
    parser.add_argument("--out", type=Path, help="also append the JSON line here")
    options = parser.parse_args()
    start_benchmark()
    rows = int(float(options.rows))
    work = options.dir or Path(tempfile.mkdtemp(prefix="prepare-submit-"))
    work.mkdir(parents=True, exist_ok=True)
    for size in (10_000, rows):
        if not (work / f"events-{size}.parquet").exists():
            write_events(work / f"events-{size}.parquet", size)
    head = start_head(num_cpus=2)
    try:
        prepared(head.address, work, work / "events-10000.parquet", "warm-up")
        line = {"rows": rows, "via": "raytrec submit",
                **prepared(head.address, work, work / f"events-{rows}.parquet", "run")}
    finally:
        head.stop()
    emit(line, options.out)


if __name__ == "__main__":
    main()
