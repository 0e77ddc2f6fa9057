"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/worker_data.py DATA_DIR [--workers 1,2,4]
    [--out FILE]

What one worker of W holds of a prepared data folder (``DATA_DIR``: a run's ``data/``, e.g.
one ``prepare_engines.py`` wrote), in a process of its own per W: the user-item task's
``worker_info`` (its users' training items, every user's count), its batches' rows
(``read_train_rows``, with ratings) and its evaluation's answers (``EvalData`` of valid and
test, as ``UserItemEvaluation`` loads them), worker 0 of W. One JSON line per W: the bytes
of those arrays, the rows and bytes (as Arrow decodes them) of the row groups it read, the
process's peak RSS, and the seconds the reads took; then each W's arrays and reads against
W = 1's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from common.setup import arguments, emit


def one(data_dir: Path, world: int) -> dict[str, float]:
    from raytrec.data import store
    from raytrec.data.store import read_train_rows
    from raytrec.evaluation.data import EvalData
    from raytrec.plugins import get_registry
    from raytrec.train.loop import peak_rss_mb

    read = {"rows": 0, "bytes": 0}
    original = store._row_groups

    def counted(*args, **kwargs):  # every row group any of the reads below takes
        for table in original(*args, **kwargs):
            read["rows"] += table.num_rows
            read["bytes"] += table.nbytes
            yield table

    store._row_groups = counted
    started = time.perf_counter()
    task = get_registry().create("task", "user-item")
    info = task.worker_info(data_dir, 0, world)
    rows = read_train_rows(data_dir, 0, world, ratings=True)
    evals = [EvalData.load(str(data_dir), split, info.num_users, info.positives, 0, world)
             for split in ("valid", "test")]
    seconds = time.perf_counter() - started
    arrays = [info.positives.indptr, info.positives.indices, info.query_counts,
              *(a for a in rows if a is not None),
              *(part.indices for data in evals for part in (data.relevant, data.exclude))]
    return {"workers": world, "data_mb": round(sum(a.nbytes for a in arrays) / 2**20, 1),
            "rows_read": read["rows"], "read_mb": round(read["bytes"] / 2**20, 1),
            "peak_rss_mb": round(peak_rss_mb()), "seconds": round(seconds, 1)}


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    if args and args[0] == "--one":
        print(json.dumps(one(Path(args[1]), int(args[2]))))
        return
    parser = arguments(__doc__)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--out", type=Path, help="also append the JSON lines here")
    options = parser.parse_args(args)
    found = []
    for world in (int(w) for w in options.workers.split(",")):
        done = subprocess.run([sys.executable, __file__, "--one", str(options.data_dir),
                               str(world)], capture_output=True, text=True, check=True)
        line = json.loads(done.stdout.strip().splitlines()[-1])
        if found:
            line["data_vs_one_worker"] = round(line["data_mb"] / found[0]["data_mb"], 3)
            line["read_vs_one_worker"] = round(line["read_mb"] / found[0]["read_mb"], 3)
        found.append(line)
        emit(line, options.out)


if __name__ == "__main__":
    main()
