"""``raytrec train`` with ``tracking``: the config as parameters, each epoch's metrics by
step, the test metrics beside the baselines, in an MLflow store without a server (SQLite) and
in TensorBoard event files; an interrupted run resumed continues its tracked run; a refused
tracking URI leaves the run successful; a backend without its package names the extra."""

from __future__ import annotations

import json
import logging
import struct
import sys
from pathlib import Path

import pytest

from tests.bad_input.conftest import run_cli
from tests.conftest import write_config


def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/mlflow.db"


def tracked_runs(uri: str, experiment: str) -> list:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment}"
    return client.search_runs([found.experiment_id])


def steps(uri: str, run_id: str, key: str) -> list[int]:
    from mlflow.tracking import MlflowClient

    return [m.step for m in MlflowClient(tracking_uri=uri).get_metric_history(run_id, key)]


def test_a_run_in_mlflow(tmp_path: Path, capsys) -> None:
    uri = store(tmp_path)
    cfg = write_config(tmp_path / "ml.yaml", tracking={"backend": "mlflow", "uri": uri})
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 0, err
    [run] = tracked_runs(uri, "ml")  # the config file's name
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    params = run.data.params
    assert params["mapper.dim"] == "16" and params["loss.name"] == "cml"
    assert params["eval.ks"] == "[10, 20]" and params["tracking.backend"] == "mlflow"
    assert steps(uri, run.info.run_id, "valid/recall_at_20") == [1, 2, 3]
    assert steps(uri, run.info.run_id, "train/loss") == [1, 2, 3]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert run.data.metrics["test/recall_at_20"] == pytest.approx(metrics["test"]["recall@20"])
    assert "baseline/popularity/test/recall_at_20" in run.data.metrics
    assert run.data.tags["raytrec.run_dir"] == str(tmp_path / "run")
    assert run.data.tags["raytrec.plugin.raytrec"] == "0.1.0"


def test_an_interrupted_run_resumed_continues_its_tracked_run(tmp_path: Path, capsys,
                                                              interrupt_epoch) -> None:
    uri = store(tmp_path)
    cfg = write_config(tmp_path / "c.yaml", tracking={"backend": "mlflow", "uri": uri})
    interrupt_epoch(3)
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 130, err
    [run] = tracked_runs(uri, "c")
    assert run.info.status == "KILLED"
    assert steps(uri, run.info.run_id, "valid/recall_at_20") == [1, 2]
    interrupt_epoch(None)
    code, _, err = run_cli(capsys, "train", "--resume", tmp_path / "run")
    assert code == 0, err
    [again] = tracked_runs(uri, "c")  # the same run, finished
    assert again.info.run_id == run.info.run_id and again.info.status == "FINISHED"
    assert steps(uri, run.info.run_id, "valid/recall_at_20") == [1, 2, 3]


def test_a_refused_tracking_uri_is_one_warning(tmp_path: Path, capsys, caplog) -> None:
    # Nothing listens on port 9 of this machine: the connection is refused at once.
    cfg = write_config(tmp_path / "c.yaml", tracking={"backend": "mlflow",
                                                      "uri": "http://127.0.0.1:9"})
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 0, err
    assert (tmp_path / "run" / "metrics.json").is_file()
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1, warned
    assert warned[0].startswith(f"{tmp_path / 'run'} is not tracked: mlflow refused ")
    assert warned[0].endswith("the run goes on untracked")


def events(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """The scalars of every TensorBoard event file under ``folder``: tag -> (step, value)."""
    from tensorboardX.proto import event_pb2

    found: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(folder.rglob("events.out.tfevents.*")):
        data, at = path.read_bytes(), 0
        while at < len(data):  # TFRecord: length, its CRC, the record, its CRC
            (length,) = struct.unpack("<Q", data[at:at + 8])
            record = data[at + 12:at + 12 + length]
            at += 16 + length
            event = event_pb2.Event.FromString(record)
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    found.setdefault(value.tag, []).append((event.step, value.simple_value))
    return found


def test_a_run_in_tensorboard(tmp_path: Path, capsys, interrupt_epoch) -> None:
    cfg = write_config(tmp_path / "c.yaml", tracking={"backend": "tensorboard"})
    interrupt_epoch(3)
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 130, err
    interrupt_epoch(None)
    code, _, err = run_cli(capsys, "train", "--resume", tmp_path / "run")
    assert code == 0, err
    scalars = events(tmp_path / "run" / "tensorboard")
    assert [s for s, _ in scalars["valid/recall_at_20"]] == [1, 2, 3]  # each epoch once
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert scalars["test/recall_at_20"][-1][1] == pytest.approx(metrics["test"]["recall@20"])
    assert "baseline/popularity/test/recall_at_20" in scalars


def test_a_backend_without_its_package_names_the_extra(tmp_path: Path, capsys,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed
    cfg = write_config(tmp_path / "c.yaml", tracking={"backend": "mlflow"})
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 2 and not (tmp_path / "run").exists()
    assert "tracking.backend: mlflow needs the mlflow package, which is not installed: " \
           "pip install 'raytrec[mlflow]'" in err


def test_a_key_of_the_other_backend_is_refused(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path / "c.yaml", tracking={"backend": "tensorboard",
                                                      "uri": "http://mlflow:5000"})
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 2 and not (tmp_path / "run").exists()
    assert "tracking.uri: is MLflow's; backend is tensorboard: set backend: mlflow, or drop " \
           "it" in err
