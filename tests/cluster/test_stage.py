"""What ``raytrec submit`` ships, and what it refuses to, checked without a cluster."""

from __future__ import annotations

import socket
import sys
import textwrap
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from raytrec import plugins
from raytrec.cluster.jobs import JobsError, connect
from raytrec.cluster.stage import COPY_LIMIT, UPLOAD_LIMIT, stage_job
from raytrec.cluster.submit import cluster_path
from raytrec.cluster.wheels import ShipError, needed_distributions
from raytrec.errors import RaytrecError
from tests.conftest import write_config


def _interactions(path: Path) -> Path:
    pd.DataFrame({"user_id": [u for u in range(40) for _ in range(6)],
                  "item_id": [(u * 7 + j) % 30 for u in range(40) for j in range(6)]}
                 ).to_csv(path, index=False)
    return path


def _stage(config: Path, out: Path, **kwargs) -> object:
    out.mkdir()
    options = {"shared": [], "include": [], "cluster_has": [], **kwargs}
    return stage_job(config, [], out, options["shared"], options["include"],
                     options["cluster_has"])


def _wheel_names(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*.whl"))


def test_only_the_config_its_files_and_wheels_are_shipped(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    data = _interactions(folder / "ratings.csv")
    for secret in (".env", "id_ed25519", "deploy.pem", "notes.txt"):
        (folder / secret).write_text("TOKEN=do-not-ship\n")
    config = write_config(folder / "c.yaml", data={"name": "csv", "path": "ratings.csv"},
                          loss={"name": "logistic"})
    staged = _stage(config, tmp_path / "out")
    shipped = sorted(str(p.relative_to(staged.directory)) for p in
                     staged.directory.rglob("*") if p.is_file())
    assert [p for p in shipped if not p.startswith("wheels/")] == ["config.yaml",
                                                                 "files/ratings.csv"]
    assert staged.copied == {"data.path": "files/ratings.csv"}
    assert (staged.directory / "files" / "ratings.csv").read_bytes() == data.read_bytes()
    assert "files/ratings.csv" in (staged.directory / "config.yaml").read_text()
    # raytrec itself and the distribution of the loss the config names, nothing else
    assert [n.split("-")[0] for n in _wheel_names(staged.directory)] == ["raytrec",
                                                                        "raytrec_example"]
    for wheel in staged.directory.rglob("*.whl"):
        with zipfile.ZipFile(wheel) as whl:
            assert any(n.endswith("entry_points.txt") for n in whl.namelist())


def test_a_secret_named_in_the_config_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "service.key"
    _interactions(key)
    config = write_config(tmp_path / "c.yaml", data={"name": "csv", "path": str(key)})
    with pytest.raises(ShipError, match=r"data\.path: .*service\.key looks like a secret"):
        _stage(config, tmp_path / "out")


def test_an_included_directory_leaves_its_secrets_behind(tmp_path: Path) -> None:
    extra = tmp_path / "helpers"
    (extra / ".git").mkdir(parents=True)
    (extra / ".git" / "config").write_text("[remote]")
    (extra / "util.py").write_text("X = 1\n")
    (extra / ".env").write_text("TOKEN=1\n")
    config = write_config(tmp_path / "c.yaml")
    staged = _stage(config, tmp_path / "out", include=[str(extra)])
    assert sorted(p.name for p in (staged.directory / "helpers").rglob("*")) == ["util.py"]


def test_large_local_data_is_refused_unless_on_shared_storage(tmp_path: Path) -> None:
    big = tmp_path / "shared" / "big.csv"
    big.parent.mkdir()
    _interactions(big)
    with big.open("a") as fh:
        fh.truncate(COPY_LIMIT + 1)  # sparse: the size counts, not the disk
    config = write_config(tmp_path / "c.yaml", data={"name": "csv", "path": str(big)})
    with pytest.raises(ShipError, match=r"data\.path: .*big\.csv is 50\.0 MiB.*--shared DIR"):
        _stage(config, tmp_path / "out")
    staged = _stage(config, tmp_path / "out2", shared=[tmp_path / "shared"])
    assert staged.referenced == {"data.path": str(big)}
    assert not (staged.directory / "files").exists()


def test_a_working_directory_over_the_upload_limit_is_refused(tmp_path: Path) -> None:
    blob = tmp_path / "model.bin"
    with blob.open("wb") as fh:
        fh.truncate(UPLOAD_LIMIT + 1)
    config = write_config(tmp_path / "c.yaml")
    with pytest.raises(ShipError, match=r"over the 100 MiB .* largest: model\.bin \(100\.0"):
        _stage(config, tmp_path / "out", include=[str(blob)])


@pytest.fixture
def unpackable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A plugin distribution installed without a RECORD (as a system package manager
    installs one): raytrec can load it, but not pack it."""
    site = tmp_path / "site"
    (site / "raytrec_distro").mkdir(parents=True)
    (site / "raytrec_distro" / "__init__.py").write_text(textwrap.dedent("""\
        import raytrec
        from raytrec.losses.bpr import BPRLoss

        class DistroLoss(BPRLoss):
            pass

        @raytrec.hookimpl
        def register_losses(register):
            register("distro-bpr", DistroLoss)
        """))
    info = site / "raytrec_distro-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: raytrec-distro\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text("[raytrec]\ndistro = raytrec_distro\n")
    monkeypatch.syspath_prepend(str(site))
    plugins.reset_registry()
    yield "raytrec-distro"
    sys.modules.pop("raytrec_distro", None)
    plugins.reset_registry()


def test_a_plugin_the_cluster_would_not_get_is_named(tmp_path: Path, unpackable: str) -> None:
    config = write_config(tmp_path / "c.yaml", loss={"name": "distro-bpr"})
    with pytest.raises(ShipError, match=r"raytrec-distro 1\.0 was installed without a RECORD"
                                        r".*--cluster-has raytrec-distro"):
        _stage(config, tmp_path / "out")
    staged = _stage(config, tmp_path / "out2", cluster_has=[unpackable])
    assert [n.split("-")[0] for n in _wheel_names(staged.directory)] == ["raytrec"]


def test_a_search_ships_every_component_it_may_draw() -> None:
    search = {"loss": {"name": "cml"},
              "search": {"loss.name": {"choice": ["bpr", "logistic"]}}}
    assert needed_distributions(search) == ["raytrec", "raytrec-example"]


def test_an_unreachable_address_fails_within_seconds() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    started = time.monotonic()
    with pytest.raises(JobsError, match=rf"cannot reach the Ray job server at "
                                        rf"http://127\.0\.0\.1:{port} within 5 s"):
        connect(f"127.0.0.1:{port}")
    assert time.monotonic() - started < 10


def test_no_address_names_both_ways_to_give_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(JobsError, match=r"--address http://HEAD:8265 .* RAY_ADDRESS"):
        connect(None)


@pytest.mark.parametrize(("value", "tune", "message"), [
    ("runs/x", False, "is relative: the job runs in a temporary folder"),
    ("ftp://host/x", False, "raytrec cannot store a run at a ftp:// URI"),
    ("s3://bucket/runs/x", True, "raytrec tune keeps a search on a file system path"),
])
def test_a_run_dir_the_cluster_cannot_use_is_refused(value: str, tune: bool,
                                                     message: str) -> None:
    with pytest.raises(RaytrecError, match=message):
        cluster_path("--run-dir", value, tune)


def test_a_run_dir_is_an_absolute_path_or_a_store_uri() -> None:
    assert cluster_path("--run-dir", "s3://bucket/runs/a/") == "s3://bucket/runs/a"
    assert cluster_path("--run-dir", "file:///mnt/raytrec/runs/a") == "file:///mnt/raytrec/runs/a"
    assert cluster_path("--run-dir", "/mnt/raytrec/runs/a/") == "/mnt/raytrec/runs/a"


def test_data_the_cluster_prepares_is_not_prepared_by_submit(tmp_path: Path,
                                                             monkeypatch) -> None:
    """``prepare.engine: ray``: submit checks the files as the driver would before Ray
    starts, and leaves their preparation to the cluster (it used to prepare them here, and
    to start Ray at the job server's address, which failed with a traceback)."""
    from raytrec.cluster.submit import Request, check_locally
    from raytrec.data.base import Dataset
    from raytrec.errors import DataError
    from raytrec.run import job

    def no_ray() -> None:
        raise AssertionError("submit started Ray to check a run the cluster prepares")

    monkeypatch.setattr(job, "ensure_ray", no_ray)
    monkeypatch.setattr(Dataset, "load", lambda self: pytest.fail("the data was loaded"))
    pd.DataFrame({"user_id": [1, 2, 2], "item_id": [5, 6, 7]}).to_csv(tmp_path / "d.csv",
                                                                      index=False)
    cfg = write_config(tmp_path / "c.yaml", prepare={"engine": "ray"},
                       data={"name": "csv", "path": str(tmp_path / "d.csv")})
    request = Request(str(cfg), [], str(tmp_path / "run"), None, False, False, [], [], [])
    assert check_locally(request, "http://127.0.0.1:1") is False
    (tmp_path / "d.csv").write_text("user_id,item_id\n")
    with pytest.raises(DataError, match="has no rows"):
        check_locally(request, "http://127.0.0.1:1")


def test_tracking_credentials_go_in_the_request_never_in_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from raytrec.cluster.submit import Request, job_env

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.example:5000")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok-never-on-disk")
    cfg = write_config(tmp_path / "c.yaml", tracking={"backend": "mlflow"})
    request = Request(config=str(cfg), overrides=[], run_dir=None, resume=None, tune=False,
                      overwrite=False, shared=[], include=[], cluster_has=[])
    env = job_env(request)
    assert env["MLFLOW_TRACKING_TOKEN"] == "tok-never-on-disk"
    assert env["MLFLOW_TRACKING_URI"] == "https://mlflow.example:5000"
    out = tmp_path / "staged"
    _stage(cfg, out)
    assert not [f for f in out.rglob("*") if f.is_file() and b"tok-never-on-disk" in
                f.read_bytes()]
    # The job reads config.yaml: the experiment stays the submitted file's name.
    import yaml

    staged = yaml.safe_load((out / "config.yaml").read_text())
    assert staged["tracking"] == {"backend": "mlflow", "experiment": "c"}
    # A run that tracks nothing does not get them.
    plain = write_config(tmp_path / "p.yaml")
    assert "MLFLOW_TRACKING_TOKEN" not in job_env(Request(**{**vars(request),
                                                             "config": str(plain)}))
    overridden = Request(**{**vars(request), "config": str(plain),
                            "overrides": ["tracking.backend=mlflow"]})
    assert "MLFLOW_TRACKING_TOKEN" in job_env(overridden)
