"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/prepare_engines.py [--rows 1e6,1e7]
    [--engines pandas,ray] [--dir DIR] [--out FILE]

The driver's peak memory and the wall time of preparation (``prepare.engine``) on synthetic
interactions written as one Parquet file (row groups of 1M rows): int64 user and item ids
(users = rows / 20, items = rows / 50, items drawn with a popularity skew, so some pairs
repeat), a float rating and an int64 timestamp; the default split (per user 60/20/20, seed
0). Each (engine, rows) runs in a process of its own: ``pandas`` loads the file and prepares
in that process; ``ray`` starts a local Ray cluster of 2 CPUs from it and prepares in Ray
Data stages, so the process's peak RSS is the driver's, the workers' apart. One JSON line
each: rows, engine, driver peak RSS (MiB), seconds (for ``ray``, also the seconds of each
stage it reports), and whether both engines wrote the same files (bytes) at that size. The
data files are kept in ``--dir`` (default: a temporary folder) and made once per size.

``auto`` takes the path ``raytrec train`` takes before it trains (``create_job``: the run
directory, ``prepare.engine: auto`` choosing an engine, the checks of the config against the
data) and says which engine it chose.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from common.setup import arguments, emit, start_benchmark

CHUNK = 1_000_000


def write_events(path: Path, rows: int) -> None:
    """``rows`` synthetic interactions into ``path``, a row group at a time."""
    rng = np.random.default_rng(0)
    users, items = max(1, rows // 20), max(1, rows // 50)
    schema = pa.schema([("user_id", pa.int64()), ("item_id", pa.int64()),
                        ("rating", pa.float64()), ("ts", pa.int64())])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            item = np.minimum((rng.pareto(1.2, n) * items / 20).astype(np.int64), items - 1)
            writer.write_table(pa.table({
                "user_id": rng.integers(0, users, n), "item_id": item,
                "rating": rng.integers(1, 6, n).astype(np.float64),
                "ts": rng.integers(0, 10**9, n)}, schema=schema))


def one(engine: str, events: Path, out_dir: Path) -> dict[str, float]:
    """In this process: prepare ``events`` with ``engine``; its figures."""
    from raytrec.data.splits import SplitConfig
    from raytrec.data.tabular import ParquetDataset
    from raytrec.train.loop import peak_rss_mb

    dataset = ParquetDataset(path=str(events), rating_col="rating", timestamp_col="ts")
    started = time.perf_counter()
    chosen = {}
    if engine == "auto":
        import ray
        import yaml

        from raytrec.run.job import create_job
        config = out_dir.with_suffix(".yaml")
        config.write_text(yaml.safe_dump({
            "data": {"name": "parquet", "path": str(events), "rating_col": "rating",
                     "timestamp_col": "ts"}, "prepare": {"engine": "auto"}}))
        create_job(config, [], out_dir, overwrite=True)
        prepared = time.perf_counter() - started
        chosen = {"engine_chosen": "ray" if ray.is_initialized() else "pandas"}
        out_dir = out_dir / "data"
    elif engine == "ray":
        import ray

        from raytrec.data.cluster.prepare import prepare_on_cluster
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        begun = time.perf_counter()
        with stage_times() as stages:
            prepare_on_cluster(dataset, SplitConfig(), out_dir)
        prepared = time.perf_counter() - begun
    else:
        from raytrec.data.prepare import prepare
        prepare(dataset.load(), SplitConfig(), out_dir)
        prepared = time.perf_counter() - started
    info = json.loads((out_dir / "info.json").read_text())
    return {"seconds": round(prepared, 1), "seconds_with_start": round(
        time.perf_counter() - started, 1), "driver_peak_rss_mb": round(peak_rss_mb()),
        "num_users": info["num_users"], "num_items": info["num_items"], **chosen,
        **({"stage_seconds": stages} if engine == "ray" else {})}


@contextmanager
def stage_times() -> Iterator[dict[str, float]]:
    """Seconds of each stage the ray engine reports (``raytrec.data.cluster.report``), to
    its end, by the stage's words before any figures."""
    found: dict[str, float] = {}
    marks: list[tuple[float, str]] = []

    class Marks(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            marks.append((time.perf_counter(), record.getMessage().split(" (")[0]))

    logger = logging.getLogger("raytrec.prepare")
    handler = Marks()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield found
    finally:
        logger.removeHandler(handler)
        ends = [t for t, _ in marks[1:]] + [time.perf_counter()]
        for (start, name), end in zip(marks, ends, strict=True):
            found[name] = round(found.get(name, 0.0) + end - start, 1)


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    if args and args[0] == "--one":
        print(json.dumps(one(args[1], Path(args[2]), Path(args[3]))))
        return
    parser = arguments(__doc__)
    parser.add_argument("--rows", default="1e6,1e7", help="comma-separated sizes")
    parser.add_argument("--engines", default="pandas,ray")
    parser.add_argument("--dir", type=Path, help="where the data and outputs go")
    parser.add_argument("--out", type=Path, help="also append the JSON lines here")
    options = parser.parse_args(args)
    start_benchmark()
    root = options.dir or Path(tempfile.mkdtemp(prefix="prepare-engines-"))
    root.mkdir(parents=True, exist_ok=True)
    for rows in (int(float(r)) for r in options.rows.split(",")):
        events = root / f"events-{rows}.parquet"
        if not events.exists():
            write_events(events, rows)
        outs = {}
        for engine in options.engines.split(","):
            outs[engine] = root / f"prepared-{rows}-{engine}"
            done = subprocess.run([sys.executable, __file__, "--one", engine, str(events),
                                   str(outs[engine])], capture_output=True, text=True)
            if done.returncode:
                line = {"rows": rows, "engine": engine, "failed": done.stderr[-1500:]}
            else:
                line = {"rows": rows, "engine": engine,
                        **json.loads(done.stdout.strip().splitlines()[-1])}
            if engine == "auto":
                outs[engine] = outs[engine] / "data"
            if len(outs) == 2 and all(p.exists() for p in outs.values()):
                a, b = outs.values()
                line["same_files"] = all(f.read_bytes() == (b / f.name).read_bytes()
                                         for f in a.iterdir())
            emit(line, options.out)


if __name__ == "__main__":
    main()
