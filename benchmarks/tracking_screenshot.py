"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/tracking_screenshot.py --mlflow MLFLOW
    [--samples 8] [--budget-s 420] [--dir DIR] [--out docs/tracking_mlflow.png]

The trials of ``examples/tune_any.yaml`` on MovieLens-100K in the MLflow UI: runs the search
(``--samples`` trials, at most ``--budget-s`` seconds: the example's 32 trials and 30 minutes
cut to fit a session) with ``tracking: {backend: mlflow}`` into a SQLite store, serves the
store with ``MLFLOW`` (the ``mlflow`` command of an environment with the full ``mlflow``
package: the UI is not in ``raytrec[mlflow]``), and saves a headless Chromium screenshot of
MLflow's comparison of the search's trials (their draws against their metrics). The UI's
MLflow must know the store's schema: the same or a later version than the one that wrote it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

from common.setup import arguments, start_benchmark

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--mlflow", required=True, help="the mlflow command serving the UI")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--budget-s", type=int, default=420)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/tracking-screenshot"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "tracking_mlflow.png")
    options = parser.parse_args()
    start_benchmark()
    options.dir.mkdir(parents=True, exist_ok=True)
    store = f"sqlite:///{options.dir}/mlflow.db"
    tune_dir = options.dir / "tune"
    if not (tune_dir / "best.json").is_file():
        subprocess.run([str(ROOT / ".venv" / "bin" / "raytrec"), "tune",
                        str(ROOT / "examples" / "tune_any.yaml"), "--run-dir", str(tune_dir),
                        "--overwrite", "--set", f"tune.num_samples={options.samples}",
                        "--set", f"tune.time_budget_s={options.budget_s}", "--set",
                        f"tracking={{backend: mlflow, uri: '{store}'}}"], check=True)
    port = free_port()
    server = subprocess.Popen([options.mlflow, "ui", "--backend-store-uri", store, "--host",
                               "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base, timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    why = (f"{options.mlflow} ui did not start (run it by hand to see why; its "
                           "version must read this store's schema)")
                    raise SystemExit(why) from None
                time.sleep(1)
        import mlflow.tracking

        client = mlflow.tracking.MlflowClient(tracking_uri=store)
        experiment = client.get_experiment_by_name("tune_any").experiment_id
        trials = [r.info.run_id for r in client.search_runs([experiment])
                  if "mlflow.parentRunId" in r.data.tags]
        query = urllib.parse.urlencode({"runs": json.dumps(trials),
                                        "experiments": json.dumps([experiment])})
        url = f"{base}/#/compare-runs?{query}"
        options.out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--window-size=1600,1000",
                        "--virtual-time-budget=20000", f"--screenshot={options.out}", url],
                       check=True, timeout=180, capture_output=True)
        print(f"{options.out}: {url}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
