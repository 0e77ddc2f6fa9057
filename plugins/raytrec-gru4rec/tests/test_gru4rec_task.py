"""The session task under raytrec's own commands: train, resume, evaluate, tune, and the
checks a config gets before anything runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from raytrec_gru4rec.mapper import GRU4RecMapper
from raytrec_gru4rec.prepared import read_sessions
from raytrec_gru4rec.synthetic import SyntheticSessions
from raytrec_gru4rec.task import SessionTask, shard

from raytrec.cli.main import main
from raytrec.testing import check_training

DATA = {"name": "synthetic-sessions", "num_sessions": 600, "num_items": 100, "mean_length": 6,
        "follow": 0.9, "days": 10, "seed": 0}


def session_config(path: Path, **sections: dict) -> Path:
    config = {"task": {"name": "session", "test_days": 1, "valid_days": 1},
              "data": DATA,
              "mapper": {"name": "gru4rec", "hidden": 32},
              "sampler": {"name": "mixed", "num_negatives": 16, "alpha": 0.5},
              "loss": {"name": "bpr-max", "bpreg": 1.0},
              "train": {"epochs": 6, "batch_size": 32, "optimizer": "adagrad", "lr": 0.1,
                        "threads": 1},
              "eval": {"ks": [1, 5, 20], "metric": "recall@5"},
              "scaling": {"num_workers": 0}}
    config.update(sections)
    path.write_text(yaml.safe_dump(config))
    return path


def cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


def test_gru4rec_learns_the_planted_successors(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    code, out, err = cli(capsys, "train", session_config(tmp_path / "c.yaml"), "--run-dir", run)
    assert code == 0, err
    summary = json.loads((run / "metrics.json").read_text())
    # 90% of steps go to the successor: a model that learnt them ranks it first that often.
    assert summary["test"]["recall@1"] > 0.75
    assert "item-kNN" in out and "popularity" in out and "ranked exactly" in out
    assert "data: " in out and "training sessions" in out
    vectors = (run / "item_embeddings.parquet")
    assert vectors.is_file() and not (run / "user_embeddings.parquet").exists()

    code, out, err = cli(capsys, "evaluate", run, "--json")
    assert code == 0, err
    found = json.loads(out)
    assert found["test"] == pytest.approx(summary["test"])
    knn, popular = found["item-kNN (test)"], found["popularity (test)"]
    assert summary["test"]["recall@1"] > 3 * popular["recall@1"]
    # item-kNN's co-occurrence is symmetric: predecessors score as high as successors.
    assert summary["test"]["mrr@20"] > knn["mrr@20"]


def test_a_stopped_and_resumed_run_ends_with_the_same_model() -> None:
    """Hidden state lives on the task between steps: it must not leak across a resume."""
    companions = {"task": {"name": "session", "test_days": 1, "valid_days": 1},
                  "data": {**DATA, "num_sessions": 200},
                  "sampler": {"name": "mixed", "num_negatives": 8, "alpha": 0.5},
                  "loss": {"name": "top1-max"},
                  "train": {"epochs": 2, "batch_size": 16, "optimizer": "adagrad", "lr": 0.1,
                            "threads": 1, "device": "cpu"},
                  "eval": {"ks": [5, 10], "metric": "recall@10", "every": 1}}
    summary = check_training(GRU4RecMapper, companions, hidden=16, dropout_hidden=0.2)
    assert summary["epochs_run"] == 2


def test_conservative_ranks_count_ties_against_the_target(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    # A catalogue large for its sessions: many items never meet in training.
    cfg = session_config(tmp_path / "c.yaml", data={**DATA, "num_items": 2000},
                         train={"epochs": 1, "batch_size": 32, "threads": 1})
    assert cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    code, out, err = cli(capsys, "evaluate", run, "--json")
    assert code == 0, err
    strict = json.loads(out)
    code, out, err = cli(capsys, "evaluate", run, "--set", "task.conservative=true", "--json")
    assert code == 0, err
    ties = json.loads(out)
    # item-kNN gives every item that never met the input the same 0: counted for the target,
    # those ties put an unseen target near the top; counted against it, below them all.
    knn = "item-kNN (test)"
    assert ties[knn]["recall@5"] < strict[knn]["recall@5"]
    # Not conservative, the baselines show item-kNN both ways.
    assert strict["item-kNN, ties against (test)"] == pytest.approx(ties[knn])
    assert "item-kNN, ties against (test)" not in ties
    # The GRU's scores are continuous: no ties, the same ranks either way.
    assert ties["test"] == pytest.approx(strict["test"])

    code, _, err = cli(capsys, "evaluate", run, "--set", "task.test_days=2")
    assert code == 2 and "task.test_days" in err and "task.conservative" in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize(("sections", "key", "says"), [
    ({"mapper": {"name": "embedding", "dim": 8}}, "mapper.name",
     ["not a raytrec_gru4rec.mapper.SessionMapper"]),
    ({"sampler": {"name": "mixed", "num_negatives": 8, "exclude_positives": True}},
     "sampler.exclude_positives",
     ["this task's data does not give", "training sessions, 100 items"]),
    ({"task": {"name": "session", "test_days": 0}}, "task.test_days", ["must be > 0"]),
])
def test_a_config_the_task_cannot_run_is_refused_before_anything_is_written(
        tmp_path: Path, capsys, sections: dict, key: str, says: list[str]) -> None:
    run = tmp_path / "run"
    code, _, err = cli(capsys, "train", session_config(tmp_path / "c.yaml", **sections),
                       "--run-dir", run)
    assert code == 2 and key in err and all(text in err for text in says), err
    assert "Traceback" not in err and not run.exists()


def test_the_user_item_task_refuses_the_session_mapper(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"mapper": {"name": "gru4rec"}}))
    code, _, err = cli(capsys, "train", cfg, "--run-dir", tmp_path / "run")
    assert code == 2 and "mapper.name" in err and "raytrec.mappers.base.Mapper" in err


def test_workers_split_the_training_sessions_between_them(tmp_path: Path) -> None:
    raw = SyntheticSessions(num_sessions=300, num_items=40).load()
    SessionTask().prepare(raw, {}, tmp_path)
    train = read_sessions(tmp_path, "train")
    shards = [shard(train, rank, 3) for rank in range(3)]
    assert sum(len(s) for s in shards) == len(train)
    assert sum(s.transitions for s in shards) == train.transitions
    seen = np.sort(np.concatenate([s.times for s in shards]))
    assert np.array_equal(seen, np.sort(train.times))


def test_every_session_in_a_split_keeps_its_events_in_time_order(tmp_path: Path) -> None:
    raw = SyntheticSessions(num_sessions=300, num_items=40).load()
    SessionTask(test_days=2, valid_days=2).prepare(raw, {}, tmp_path)
    info = json.loads((tmp_path / "info.json").read_text())
    for split in ("train", "valid", "test"):
        sessions = read_sessions(tmp_path, split)
        assert len(sessions) == info["sessions"][split] > 0
        for s in range(len(sessions)):
            times = sessions.times[sessions.offsets[s]:sessions.offsets[s + 1]]
            assert np.all(np.diff(times) > 0)


def test_two_ray_train_workers_train_a_session_model(tmp_path: Path, capsys) -> None:
    """Sessions sharded over two workers, hidden states per worker, metrics summed over
    both: the model learns what one process learns."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    run = tmp_path / "run"
    cfg = session_config(tmp_path / "c.yaml", scaling={"num_workers": 2, "cpus_per_worker": 1})
    code, _, err = cli(capsys, "train", cfg, "--run-dir", run)
    assert code == 0, err
    summary = json.loads((run / "metrics.json").read_text())
    assert summary["epochs_run"] == 6 and summary["test"]["recall@1"] > 0.75
    # Every test event was scored once, by one of the two workers.
    info = json.loads((run / "data" / "info.json").read_text())
    assert summary["test"]["events"] == info["transitions"]["test"]


def test_a_search_over_the_session_model(tmp_path: Path, capsys) -> None:
    cfg = session_config(tmp_path / "t.yaml", train={"epochs": 2, "batch_size": 32,
                                                     "optimizer": "adagrad", "lr": 0.1,
                                                     "threads": 1})
    config = yaml.safe_load(cfg.read_text())
    config["search"] = {"loss.name": {"choice": ["bpr-max", "top1-max"]},
                        "mapper.hidden": {"choice": [8, 16]}}
    config["tune"] = {"num_samples": 2, "max_concurrent_trials": 1, "scheduler": "fifo",
                      "seed": 0}
    cfg.write_text(yaml.safe_dump(config))
    out_dir = tmp_path / "search"
    code, out, err = cli(capsys, "tune", cfg, "--run-dir", out_dir)
    assert code == 0, err
    best = json.loads((out_dir / "best.json").read_text())
    assert best["trials"] == 2 and best["errors"] == 0
    assert best["baseline"]["name"] == "item-kNN"
    assert f"item-kNN: {best['baseline']['valid']['recall@5']:.4f}" in out
    assert "ranked exactly" in out and "retriever" not in best


def test_export_and_recommend_refuse_a_session_run_by_name(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    cfg = session_config(tmp_path / "c.yaml", train={"epochs": 1, "batch_size": 32,
                                                     "threads": 1})
    assert cli(capsys, "train", cfg, "--run-dir", run)[0] == 0
    for argv in (["export", run, "--out", tmp_path / "export"],
                 ["recommend", run, "--user", "1"]):
        code, _, err = cli(capsys, *argv)
        assert code != 0 and "trained the 'session' task" in err and "Traceback" not in err
    assert not (tmp_path / "export").exists()


def test_check_mapper_points_a_session_model_to_check_training() -> None:
    from raytrec.testing import ConformanceError, check_mapper

    with pytest.raises(ConformanceError, match="check_training"):
        check_mapper(GRU4RecMapper, hidden=8)
