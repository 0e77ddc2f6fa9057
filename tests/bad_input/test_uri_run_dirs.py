"""A run directory at a URI (``file://`` here; ``s3://`` and ``gs://`` take the same path
through pyarrow): published as it is written, resumed from the URI, never replaced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raytrec.errors import RaytrecError
from tests.bad_input.conftest import run_cli
from tests.bad_input.test_data_loss import BoomLoss
from tests.conftest import write_config


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAYTREC_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_run_at_a_uri_is_published_as_it_goes_and_resumed_from_it(
        tmp_path: Path, capsys, interrupt_epoch, cache: Path) -> None:
    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 3})
    store = tmp_path / "store" / "run"
    uri = f"file://{store}"
    interrupt_epoch(3)
    code, out, err = run_cli(capsys, "train", cfg, "--run-dir", uri)
    assert code == 130 and f"continue with raytrec train --resume {uri}" in err
    assert f"run directory: {uri} (working copy {cache}/runs/run-" in out
    # what a run directory holds is at the URI already: the marker names it
    assert json.loads((store / ".raytrec").read_text())["uri"] == uri
    assert (store / "config.yaml").is_file() and (store / "data" / "info.json").is_file()
    assert sorted(p.name for p in (store / "checkpoints").iterdir()) == [
        "checkpoint_000000", "checkpoint_000001"]
    assert len((store / "progress.jsonl").read_text().splitlines()) == 2
    assert not (store / "metrics.json").exists()
    assert not list((cache / "runs").glob("*"))  # the working copy goes with the command

    interrupt_epoch(None)
    code, out, _ = run_cli(capsys, "train", "--resume", uri)
    assert code == 0, out
    assert f"resuming from {uri}/checkpoints/checkpoint_000001" in out
    assert f"metrics: {uri}/metrics.json" in out
    metrics = json.loads((store / "metrics.json").read_text())
    assert metrics["epochs_run"] == 3
    for name in ("model.pt", "user_embeddings.parquet", "item_embeddings.parquet"):
        assert (store / name).stat().st_size > 0
    rows = [json.loads(line) for line in (store / "progress.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows[:3]] == [1, 2, 3] and "test/recall@20" in rows[-1]

    code, out, _ = run_cli(capsys, "evaluate", uri, "--json")
    assert code == 0
    assert json.loads(out)["test"]["recall@20"] == pytest.approx(
        metrics["test"]["recall@20"], abs=1e-6)
    assert not list((cache / "runs").glob("*"))


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_run_at_a_uri_is_never_replaced(tmp_path: Path, capsys, cache: Path,
                                          overwrite: bool) -> None:
    store = tmp_path / "store" / "run"
    store.mkdir(parents=True)
    (store / "notes.txt").write_text("mine")
    cfg = write_config(tmp_path / "c.yaml")
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", f"file://{store}",
                           *(["--overwrite"] if overwrite else []))
    assert code == 2 and f"run directory file://{store} already exists" in err
    assert ("--overwrite does not replace a run directory at a URI" in err) == overwrite
    assert [p.name for p in store.iterdir()] == ["notes.txt"]
    assert "Traceback" not in err


def test_a_failed_run_at_a_uri_keeps_its_log_there(tmp_path: Path, capsys, cache: Path,
                                                    extra_components) -> None:
    extra_components("loss", "boom", BoomLoss)
    store = tmp_path / "store" / "run"
    cfg = write_config(tmp_path / "b.yaml", loss={"name": "boom"})
    code, _, err = run_cli(capsys, "train", cfg, "--run-dir", f"file://{store}")
    assert code == 2
    assert f"the failed run stays in file://{store} for its logs/" in err
    assert "Traceback" in (store / "logs" / "error-rank0.log").read_text()
    assert not list((cache / "runs").glob("*"))


@pytest.mark.parametrize(("argv", "message"), [
    (["train", "CFG", "--run-dir", "ftp://host/runs/a"],
     "--run-dir ftp://host/runs/a: raytrec cannot store a run at a ftp:// URI"),
    (["train", "--resume", "file://STORE"],
     "--resume file://STORE is not a raytrec run directory (there is nothing there)"),
    (["train", "--resume", "file://NOTES"],
     "--resume file://NOTES is not a raytrec run directory (it has no .raytrec file)"),
    (["tune", "CFG", "--run-dir", "file://STORE"],
     "--run-dir file://STORE: raytrec tune keeps a search on a file system path"),
])
def test_a_uri_raytrec_cannot_use_is_refused(tmp_path: Path, capsys, cache: Path,
                                             argv: list[str], message: str) -> None:
    cfg = write_config(tmp_path / "c.yaml")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("mine")
    names = {"CFG": str(cfg), "STORE": str(tmp_path / "store"), "NOTES": str(notes)}

    def fill(text: str) -> str:
        for key, value in names.items():
            text = text.replace(key, value)
        return text

    code, _, err = run_cli(capsys, *[fill(a) for a in argv])
    assert code == 2 and fill(message) in err and "Traceback" not in err
    assert not (tmp_path / "store").exists()
    assert [p.name for p in notes.iterdir()] == ["a.txt"]


def test_workers_fetch_the_data_once_per_node(tmp_path: Path, tiny_run: Path,
                                              cache: Path) -> None:
    import shutil

    from raytrec.run.mirror import fetch_data

    store = tmp_path / "store"
    shutil.copytree(tiny_run / "data", store / "data")
    first = fetch_data(f"file://{store}")
    assert fetch_data(f"file://{store}") == first
    assert sorted(p.name for p in first.iterdir()) == sorted(
        p.name for p in (store / "data").iterdir())
    (store / "data" / "info.json").write_text('{"changed": true}')  # another run's data
    assert fetch_data(f"file://{store}") != first


def test_progress_that_cannot_be_published_does_not_end_the_run(
        tmp_path: Path, cache: Path, caplog: pytest.LogCaptureFixture) -> None:
    from raytrec.layout import write_marker
    from raytrec.run.store import RunStore
    from raytrec.run.uri import URI_KEY

    (tmp_path / "blocker").write_text("a file where the store's directory should be")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    write_marker(mirror, {URI_KEY: f"file://{tmp_path}/blocker/run"})
    (mirror / "progress.jsonl").write_text("{}\n")
    store = RunStore.open(mirror)
    store.publish_quietly("progress.jsonl")
    assert "the progress was not published (it is retried next epoch)" in caplog.text
    with pytest.raises(RaytrecError, match=r"blocker/run: cannot write progress\.jsonl"):
        store.publish("progress.jsonl")  # a checkpoint's failure is the run's


def test_a_checkpoint_whose_upload_was_cut_short_is_uploaded_again(tmp_path: Path,
                                                                   cache: Path) -> None:
    from raytrec.run.uri import Remote

    local = tmp_path / "checkpoints" / "checkpoint_000001"
    local.mkdir(parents=True)
    (local / "config.json").write_text("{}")
    (local / "state.pt").write_bytes(b"state")
    store = tmp_path / "store"
    (store / "checkpoints" / "checkpoint_000001").mkdir(parents=True)
    (store / "checkpoints" / "checkpoint_000001" / "config.json").write_text("{}")
    (store / "checkpoints" / "checkpoint_000000").mkdir()  # pruned here since
    Remote.open(f"file://{store}").sync(tmp_path / "checkpoints", "checkpoints")
    assert [p.name for p in (store / "checkpoints").iterdir()] == ["checkpoint_000001"]
    assert (store / "checkpoints" / "checkpoint_000001" / "state.pt").read_bytes() == b"state"
