"""MovieLens-100K: the recbole wheel and GroupLens folder sources, without network."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from raytrec.data import movielens
from raytrec.data.movielens import WHEEL_NAME, MovieLens100K, default_cache_dir
from raytrec.errors import DataError

INTER = (
    "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "1\t10\t5\t881250949\n"
    "1\t20\t3\t881250950\n"
    "2\t10\t4\t891717742\n"
    "3\t30\t1\t878887116\n"
)
ITEM = (
    "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
    "10\tToy Story\t1995\tAnimation Children's Comedy\n"
    "20\tUsual Suspects, The\t1995\tCrime Thriller\n"
    "30\tunkonwn\tunkonwn\tunknown\n"
)
USER = (
    "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
    "1\t24\tM\ttechnician\t85711\n"
    "2\t53\tF\tother\t01002\n"
    "3\t23\tM\twriter\tT8H1N\n"
)
ITEM_COLUMNS = ["title", "year", "genres"]
USER_COLUMNS = ["age", "gender", "occupation", "zip_code"]


def write_wheel(path: Path) -> Path:
    prefix = "recbole/dataset_example/ml-100k/ml-100k."
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(prefix + "inter", INTER)
        zf.writestr(prefix + "item", ITEM)
        zf.writestr(prefix + "user", USER)
        zf.writestr("recbole/__init__.py", "")
    return path


@pytest.fixture
def no_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip must not run when the wheel is cached")

    monkeypatch.setattr(movielens.subprocess, "run", fail)


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir()
    write_wheel(folder / WHEEL_NAME)
    return folder


def test_reads_cached_wheel(cache: Path, no_pip: None) -> None:
    raw = MovieLens100K(cache_dir=str(cache)).load()
    inter = raw.interactions
    assert raw.name == "movielens-100k"
    assert list(inter.columns) == ["user", "item", "rating", "timestamp"]
    assert inter["user"].dtype == np.int64 and inter["item"].dtype == np.int64
    assert inter["user"].tolist() == [1, 1, 2, 3]
    assert inter["item"].tolist() == [10, 20, 10, 30]
    assert inter["rating"].tolist() == [5.0, 3.0, 4.0, 1.0]
    assert inter["timestamp"].iloc[0] == 881250949

    items = raw.item_features
    assert list(items.columns) == ITEM_COLUMNS
    assert items.index.tolist() == [10, 20, 30]
    assert items.loc[10, "genres"] == ["Animation", "Children's", "Comedy"]
    assert items.loc[20, "title"] == "Usual Suspects, The"
    assert items.loc[10, "year"] == 1995.0
    assert np.isnan(items.loc[30, "year"])
    assert items.loc[30, "title"] == "unknown"

    users = raw.user_features
    assert list(users.columns) == USER_COLUMNS
    assert users.index.tolist() == [1, 2, 3]
    assert users["age"].tolist() == [24, 53, 23]
    assert users.loc[2, "zip_code"] == "01002"
    assert users.loc[3, "occupation"] == "writer"


def test_cache_dir_from_environment(
    cache: Path, no_pip: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAYTREC_CACHE_DIR", str(cache))
    assert default_cache_dir() == cache
    assert len(MovieLens100K().load().interactions) == 4


def test_xdg_cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RAYTREC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "raytrec"


def test_min_rating_filters(cache: Path, no_pip: None) -> None:
    raw = MovieLens100K(cache_dir=str(cache), min_rating=4).load()
    assert raw.interactions["rating"].tolist() == [5.0, 4.0]
    assert raw.interactions["user"].tolist() == [1, 2]


def test_downloads_once_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake_pip(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        dest = Path(cmd[cmd.index("-d") + 1])
        assert dest.parent == tmp_path / "c"  # downloads land next to the final file
        write_wheel(dest / WHEEL_NAME)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(movielens.subprocess, "run", fake_pip)
    dataset = MovieLens100K(cache_dir=str(tmp_path / "c"))
    assert len(dataset.load().interactions) == 4
    assert len(dataset.load().interactions) == 4
    assert len(calls) == 1
    assert calls[0][1:5] == ["-m", "pip", "download", "--no-deps"]
    assert "recbole==1.2.1" in calls[0]
    assert sorted(os.listdir(tmp_path / "c")) == [WHEEL_NAME]


def test_failed_download_points_to_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_pip(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        dest = Path(cmd[cmd.index("-d") + 1])
        (dest / "recbole-1.2.1-py3-none-any.whl.part").write_text("half")
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: network is unreachable\n")

    monkeypatch.setattr(movielens.subprocess, "run", failing_pip)
    with pytest.raises(DataError, match="network is unreachable") as err:
        MovieLens100K(cache_dir=str(tmp_path)).load()
    assert "path:" in str(err.value) and "u.data" in str(err.value)
    assert os.listdir(tmp_path) == []


def test_broken_cached_wheel(tmp_path: Path, no_pip: None) -> None:
    (tmp_path / WHEEL_NAME).write_text("not a zip")
    with pytest.raises(DataError, match="delete that file"):
        MovieLens100K(cache_dir=str(tmp_path)).load()


def write_grouplens(folder: Path, genre_file: bool) -> Path:
    folder.mkdir()
    (folder / "u.data").write_text("1\t10\t5\t881250949\n2\t20\t2\t891717742\n")
    flags_toy = ["0"] * 19
    for j in (3, 4, 5):  # Animation, Children's, Comedy
        flags_toy[j] = "1"
    flags_crime = ["0"] * 19
    flags_crime[6] = "1"
    rows = [
        ["10", "Toy Story (1995)", "01-Jan-1995", "", "http://x", *flags_toy],
        ["20", "Cité des enfants perdus, La (1995)", "", "", "", *flags_crime],
    ]
    (folder / "u.item").write_bytes(
        "\n".join("|".join(r) for r in rows).encode("latin-1") + b"\n"
    )
    (folder / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|01002\n")
    if genre_file:
        names = [f"g{j}" for j in range(19)]
        (folder / "u.genre").write_text("".join(f"{n}|{j}\n" for j, n in enumerate(names)))
    return folder


def test_grouplens_folder(tmp_path: Path) -> None:
    folder = write_grouplens(tmp_path / "ml-100k", genre_file=False)
    raw = MovieLens100K(path=str(folder)).load()
    assert list(raw.interactions.columns) == ["user", "item", "rating", "timestamp"]
    assert raw.interactions["item"].dtype == np.int64
    assert raw.interactions["item"].tolist() == [10, 20]
    items = raw.item_features
    assert list(items.columns) == ITEM_COLUMNS
    assert items.loc[10, "title"] == "Toy Story"
    assert items.loc[10, "year"] == 1995.0
    assert items.loc[10, "genres"] == ["Animation", "Children's", "Comedy"]
    assert items.loc[20, "title"] == "Cité des enfants perdus, La"
    assert items.loc[20, "genres"] == ["Crime"]
    assert np.isnan(items.loc[20, "year"])
    users = raw.user_features
    assert list(users.columns) == USER_COLUMNS
    assert users.loc[2, "zip_code"] == "01002"
    assert users["age"].dtype == np.int64


def test_grouplens_genre_names_from_u_genre(tmp_path: Path) -> None:
    folder = write_grouplens(tmp_path / "ml-100k", genre_file=True)
    items = MovieLens100K(path=str(folder)).load().item_features
    assert items.loc[10, "genres"] == ["g3", "g4", "g5"]


def test_sources_have_same_columns_and_dtypes(cache: Path, tmp_path: Path, no_pip: None) -> None:
    wheel = MovieLens100K(cache_dir=str(cache)).load()
    folder = MovieLens100K(path=str(write_grouplens(tmp_path / "g", genre_file=False))).load()
    for a, b in ((wheel.interactions, folder.interactions),
                 (wheel.item_features, folder.item_features),
                 (wheel.user_features, folder.user_features)):
        assert a is not None and b is not None
        assert list(a.columns) == list(b.columns)
        assert a.dtypes.astype(str).tolist() == b.dtypes.astype(str).tolist()
        assert a.index.name == b.index.name


def test_grouplens_without_u_data(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"u\.data") as err:
        MovieLens100K(path=str(tmp_path)).load()
    assert str(tmp_path) in str(err.value)


@pytest.mark.parametrize("bad", [-1, 5.5, "4", True])
def test_bad_min_rating(bad: object) -> None:
    with pytest.raises(ValueError, match="min_rating"):
        MovieLens100K(min_rating=bad)  # type: ignore[arg-type]


def test_constructor_does_no_io(tmp_path: Path) -> None:
    MovieLens100K(path=str(tmp_path / "does-not-exist"), min_rating=0)


@pytest.mark.skipif(
    not (default_cache_dir() / WHEEL_NAME).is_file()
    and os.environ.get("RAYTREC_TEST_NETWORK") != "1",
    reason="needs the recbole wheel in the cache, or RAYTREC_TEST_NETWORK=1 to download it",
)
def test_real_movielens_100k() -> None:
    raw = MovieLens100K().load()
    inter = raw.interactions
    assert len(inter) == 100_000
    assert inter["user"].nunique() == 943
    assert inter["item"].nunique() == 1682
    assert raw.item_features is not None and len(raw.item_features) == 1682
    assert raw.user_features is not None and len(raw.user_features) == 943


def test_grouplens_malformed_u_data(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("1\t10\t5\t881250949\n1\t10\n")
    with pytest.raises(DataError) as err:
        MovieLens100K(path=str(tmp_path)).load()
    assert str(tmp_path / "u.data") in str(err.value)
