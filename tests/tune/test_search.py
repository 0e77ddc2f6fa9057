"""``raytrec tune`` end to end on small synthetic data."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from raytrec.cli.main import main
from tests.conftest import write_config

SPACE = {"loss.margin": {"uniform": [0.1, 1.5]},
         "sampler.num_negatives": {"choice": [2, 5, 10]},
         "loss.name": {"choice": ["cml", "bpr"]},
         "eval.ks": {"choice": [[10, 20], [20, 50]]}}


def _search_file(tmp_path: Path, search: dict, tune: dict, **sections) -> Path:
    path = write_config(tmp_path / "search.yaml", **sections)
    raw = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**raw, "search": search, "tune": tune}))
    return path


@pytest.mark.ray
def test_search_writes_its_outputs_and_best_yaml_retrains(tmp_path: Path, ray_cluster,
                                                          capsys) -> None:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    path = _search_file(tmp_path, SPACE, {"num_samples": 4, "grace_period": 1,
                                          "reduction_factor": 2, "max_concurrent_trials": 2},
                        train={"epochs": 3}, loss={"name": "cml", "margin": 0.5},
                        tracking={"backend": "mlflow", "uri": uri})
    out = tmp_path / "tune"
    assert main(["tune", str(path), "--run-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "4 trials:" in printed and "best trial" in printed
    _check_tracked_trials(uri, out)
    # Not a terminal: one line per trial as it ended, no live table.
    ended = [line for line in printed.splitlines() if line.startswith("trial ")]
    assert len(ended) == 4 and ended[-1].endswith("(4 of 4 done)"), printed
    assert re.fullmatch(r"trial \w+ (finished|stopped) after [123] epochs: best recall@20 "
                        r"0\.\d+  eval\.ks=\[\d+, \d+\] loss\.margin=\S+ loss\.name=\w+ "
                        r"sampler\.num_negatives=\d+  \(1 of 4 done\)", ended[0]), ended[0]
    assert "trials (valid recall@20" not in printed  # the live table's title

    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 4 and table["trial_id"].is_unique
    assert set(table["status"]) <= {"finished", "stopped"}
    assert {"loss.margin", "sampler.num_negatives", "loss.name", "best_recall@20",
            "epochs_run", "stopped_early", "wall_s"} <= set(table.columns)
    assert table["loss.name"].isin(["cml", "bpr"]).all()
    assert table["sampler.num_negatives"].isin([2, 5, 10]).all()
    # A choice among lists is drawn by position and stored as the list, in JSON.
    assert table["eval.ks"].isin(["[10, 20]", "[20, 50]"]).all()
    finished = table[table["status"] == "finished"]
    assert (finished["epochs_run"] == 3).all() and not finished["stopped_early"].any()
    # TPE draws a margin only for trials of a loss that takes one (seed 0 draws both losses).
    assert set(table["loss.name"]) == {"cml", "bpr"}
    assert table.loc[table["loss.name"] == "bpr", "loss.margin"].isna().all()
    assert table.loc[table["loss.name"] == "cml", "loss.margin"].between(0.1, 1.5).all()
    assert pd.read_csv(out / "results.csv")["trial_id"].tolist() == table["trial_id"].tolist()

    best = json.loads((out / "best.json").read_text())
    assert best["valid"]["recall@20"] == pytest.approx(finished["best_recall@20"].max())
    assert 0 < best["test"]["recall@20"] <= 1
    # The first trial trained the config's own values; the end compares the best with it.
    default = table.set_index("trial_id").loc[best["default"]["trial_id"]]
    assert (default["loss.name"], default["loss.margin"], default["sampler.num_negatives"],
            default["eval.ks"]) == ("cml", 0.5, 10, "[10, 20]")
    assert best["default"]["valid"] == pytest.approx(default["best_recall@20"])
    assert 0 < best["baseline"]["valid"]["recall@20"] < 1
    flat = " ".join(printed.split())
    assert f"the config as given (trial {best['default']['trial_id']}" in flat
    assert best["baseline"]["name"] == "popularity"
    assert f"popularity: {best['baseline']['valid']['recall@20']:.4f}" in flat
    plots = {p.name for p in (out / "plots").iterdir()}
    assert plots == {"learning_curves.png", "metric_vs_loss.margin.png",
                     "metric_vs_sampler.num_negatives.png", "metric_vs_loss.name.png",
                     "metric_vs_eval.ks.png"}
    assert all((out / "plots" / p).read_bytes()[:4] == b"\x89PNG" for p in plots)

    # best.yaml is a complete training config: retraining it gives the trial's result.
    run = tmp_path / "retrain"
    assert main(["train", str(out / "best.yaml"), "--run-dir", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert yaml.safe_load((out / "best.yaml").read_text())["eval"]["ks"] == best["params"][
        "eval.ks"]
    # Same seed and thread count (best.yaml carries it): the same sums, the same metric.
    assert metrics["valid"]["recall@20"] == pytest.approx(best["valid"]["recall@20"], rel=1e-6)
    assert metrics["best_epoch"] == best["best_epoch"]


def _check_tracked_trials(uri: str, out: Path) -> None:
    """One tracked run for the search (MLflow experiment: the search file's name) and one
    nested under it per trial, with its draws, its epochs by step, its status, the best
    tagged."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("search").experiment_id])
    [search] = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    trials = {r.info.run_name: r for r in runs
              if r.data.tags.get("mlflow.parentRunId") == search.info.run_id}
    table = pd.read_parquet(out / "results.parquet")
    assert set(trials) == set(table["trial_id"]) and len(trials) == 4
    for row in table.to_dict("records"):
        run = trials[row["trial_id"]]
        assert run.data.tags["raytrec.status"] == row["status"]
        assert run.info.status == ("FINISHED" if row["status"] == "finished" else "KILLED")
        assert run.data.params["loss.name"] == row["loss.name"]
        history = client.get_metric_history(run.info.run_id, "valid/recall_at_20")
        assert sorted({m.step for m in history}) == list(range(1, row["epochs_run"] + 1))
    best = json.loads((out / "best.json").read_text())
    assert trials[best["trial_id"]].data.tags["raytrec.best"] == "true"
    assert sum("raytrec.best" in r.data.tags for r in trials.values()) == 1
    search = client.get_run(search.info.run_id)
    assert search.data.tags["raytrec.best_trial"] == best["trial_id"]
    assert search.info.status == "FINISHED" and search.data.params["train.epochs"] == "3"


@pytest.mark.ray
def test_a_time_budget_ends_the_search_before_its_trials_run_out(tmp_path: Path, ray_cluster,
                                                                capsys) -> None:
    path = _search_file(tmp_path, {"loss.margin": {"uniform": [0.1, 1.5]}},
                        {"num_samples": 200, "scheduler": "fifo", "max_concurrent_trials": 1,
                         "time_budget_s": 20}, train={"epochs": 2})
    out = tmp_path / "tune"
    assert main(["tune", str(path), "--run-dir", str(out)]) == 0
    table = pd.read_parquet(out / "results.parquet")
    assert 1 <= len(table) < 200
    assert "finished" in set(table["status"])


def _experiment_results(out: Path) -> dict[str, pd.DataFrame]:
    frames = {}
    for result in (out / "ray" / "search").glob("run_trial_*/result.json"):
        text = result.read_text()
        lines = text[: text.rfind("\n") + 1].splitlines()  # a line still being written waits
        frames[result.parent.name] = pd.DataFrame([json.loads(line) for line in lines])
    return frames


@pytest.mark.ray
def test_interrupted_search_resumes_where_it_stopped(tmp_path: Path) -> None:
    data = {"name": "synthetic", "num_users": 3000, "num_items": 500,
            "interactions_per_user": 30, "num_clusters": 5, "seed": 1}
    # TPE over a plugin choice: the restored search algorithm carries its conditional space.
    path = _search_file(tmp_path, {"loss.margin": {"uniform": [0.1, 1.0]},
                                   "loss.name": {"choice": ["cml", "triplet"]}},
                        {"num_samples": 3, "max_concurrent_trials": 1, "scheduler": "fifo"},
                        data=data, train={"epochs": 12, "batch_size": 256},
                        tracking={"backend": "mlflow", "uri": f"sqlite:///{tmp_path}/ml.db"})
    out = tmp_path / "tune"
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    command = [sys.executable, "-m", "raytrec.cli.main", "tune"]
    proc = subprocess.Popen([*command, str(path), "--run-dir", str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # interrupt once the first trial is under way
        if any(len(f) >= 2 for f in _experiment_results(out).values()):
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, output
    assert f"raytrec tune --resume {out}" in output
    assert not (out / "best.yaml").exists()
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/ml.db")
    experiment = client.get_experiment_by_name("search").experiment_id
    # Interrupted: the search's run and the trial cut short end KILLED, until resumed.
    assert {r.info.status for r in client.search_runs([experiment])} == {"KILLED"}

    done = subprocess.run([*command, "--resume", str(out)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 3 and (table["status"] == "finished").all()
    for name, frame in _experiment_results(out).items():
        epochs = frame["epoch"].tolist()
        # Continued from its checkpoint: no epoch was trained (and reported) twice.
        assert epochs == sorted(epochs) and len(set(epochs)) == len(epochs) - 1, name
    # The interrupted trial's tracked run went on where it stopped: one run per trial, under
    # the one run of the search, each epoch logged once.
    runs = client.search_runs([experiment])
    [search] = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert search.info.status == "FINISHED"
    trials = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == search.info.run_id]
    assert sorted(r.info.run_name for r in trials) == sorted(table["trial_id"])
    for run in trials:
        steps = [m.step for m in client.get_metric_history(run.info.run_id,
                                                           "valid/recall_at_20")]
        assert steps == list(range(1, 13)) and run.info.status == "FINISHED", steps


@pytest.mark.ray
def test_asha_stops_a_ray_train_trial_and_the_next_one_runs(tmp_path: Path, ray_cluster,
                                                            capsys) -> None:
    """Two-worker trials each build a TorchTrainer; once ASHA stops one, its workers' resources
    must come back, or the next trial waits for them forever. The trials shard their ID tables
    by rows over their two workers, as a run does."""
    # Seed 1 draws lr 0.1, then 1e-6 twice: a good first trial, then two that barely move and
    # fall below its first-epoch metric.
    path = _search_file(tmp_path, {"train.lr": {"choice": [0.1, 1e-6]}},
                        {"num_samples": 3, "max_concurrent_trials": 1, "grace_period": 1,
                         "reduction_factor": 2, "algorithm": "random", "seed": 1,
                         "include_default": False},
                        train={"epochs": 2, "sharding": "rows"},
                        scaling={"num_workers": 2, "cpus_per_worker": 0.5})
    out = tmp_path / "tune"
    assert main(["tune", str(path), "--run-dir", str(out)]) == 0
    table = pd.read_parquet(out / "results.parquet")
    assert table["train.lr"].tolist() == [0.1, 1e-6, 1e-6]
    assert table["status"].tolist() == ["finished", "stopped", "stopped"]
    assert table["epochs_run"].tolist() == [2, 1, 1]
    # The trials trained on two workers (each wrote its own Ray Train run).
    assert len(list((out / "ray" / "search").glob("run_trial_*/ray/train"))) == 3
    # ... each worker writing its rows into the trial's checkpoints.
    assert list((out / "ray" / "search").glob("run_trial_*/ray/train/*/shard-00001-of-00002.pt"))
    # `raytrec train` of the best config runs the same two-worker loop to the same result.
    best = json.loads((out / "best.json").read_text())
    run = tmp_path / "retrain"
    assert main(["train", str(out / "best.yaml"), "--run-dir", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["valid"]["recall@20"] == pytest.approx(best["valid"]["recall@20"], rel=1e-6)


@pytest.mark.ray
def test_a_search_selects_on_recall_through_an_approximate_index(tmp_path: Path, ray_cluster,
                                                                  capsys) -> None:
    """Trials validate through the configured index: one probed IVF cell of 64 finds fewer
    held-out items than all 64 (exact search) for the same model, the search ranks by that,
    and best.json names the index its metrics came through."""
    data = {"name": "synthetic", "num_users": 600, "num_items": 2000,
            "interactions_per_user": 20, "num_clusters": 20, "seed": 1}
    path = _search_file(tmp_path, {"retriever.nprobe": {"choice": [1, 64]}},
                        {"num_samples": 4, "scheduler": "fifo", "max_concurrent_trials": 2},
                        data=data, retriever={"name": "faiss-ivf", "nlist": 64})
    out = tmp_path / "tune"
    assert main(["tune", str(path), "--run-dir", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())  # the table's title wraps
    assert "through faiss-ivf (nlist=64, nprobe=64," in printed, printed
    table = pd.read_parquet(out / "results.parquet")
    recall = table.groupby("retriever.nprobe")["best_recall@20"]
    assert set(recall.groups) == {1, 64}
    # The model does not depend on nprobe (same seed): its validation through one cell is
    # well below its validation through all of them.
    assert recall.max()[1] < 0.8 * recall.min()[64]
    best = json.loads((out / "best.json").read_text())
    assert best["params"] == {"retriever.nprobe": 64}
    assert best["retriever"]["name"] == "faiss-ivf" and best["retriever"]["nprobe"] == 64
