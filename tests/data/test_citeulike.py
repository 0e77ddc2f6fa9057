"""CiteULike users.dat / item-tag.dat parsing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from raytrec.data.citeulike import CiteULike
from raytrec.errors import DataError


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_users_and_tags(tmp_path: Path) -> None:
    users = write(tmp_path / "users.dat", "3 0 4 2\n1 1\n0\n2 3 4\n")
    tags = write(tmp_path / "item-tag.dat", "2 7 9\n0\n1 3\n1 3\n3 1 2 5\n")
    raw = CiteULike(path=users, item_tags=tags).load()
    inter = raw.interactions
    assert raw.name == "citeulike"
    assert list(inter.columns) == ["user", "item"]
    assert inter["user"].dtype == np.int64 and inter["item"].dtype == np.int64
    assert inter["user"].tolist() == [0, 0, 0, 1, 3, 3]  # user 2 has an empty library
    assert inter["item"].tolist() == [0, 4, 2, 1, 3, 4]
    items = raw.item_features
    assert items is not None
    assert list(items.columns) == ["tags"]
    assert items.index.tolist() == [0, 1, 2, 3, 4]
    assert items.loc[0, "tags"] == [7, 9]
    assert items.loc[1, "tags"] == []
    assert items.loc[4, "tags"] == [1, 2, 5]
    assert raw.user_features is None


def test_without_tags(tmp_path: Path) -> None:
    raw = CiteULike(path=write(tmp_path / "users.dat", "1 5\n")).load()
    assert raw.item_features is None
    assert raw.interactions["item"].tolist() == [5]


def test_count_mismatch_names_file_and_line(tmp_path: Path) -> None:
    users = write(tmp_path / "users.dat", "2 0 1\n3 1 2\n1 0\n")
    with pytest.raises(DataError, match="line 2") as err:
        CiteULike(path=users).load()
    assert users in str(err.value) and "count 3" in str(err.value)


def test_tag_count_mismatch(tmp_path: Path) -> None:
    users = write(tmp_path / "users.dat", "1 0\n")
    tags = write(tmp_path / "item-tag.dat", "1 4 5\n")
    with pytest.raises(DataError, match="line 1") as err:
        CiteULike(path=users, item_tags=tags).load()
    assert tags in str(err.value)


def test_not_numbers(tmp_path: Path) -> None:
    users = write(tmp_path / "users.dat", "1 0\n2 a b\n")
    with pytest.raises(DataError, match="line 2"):
        CiteULike(path=users).load()


def test_missing_files(tmp_path: Path) -> None:
    missing = str(tmp_path / "users.dat")
    with pytest.raises(DataError) as err:
        CiteULike(path=missing).load()
    assert missing in str(err.value)
    users = write(tmp_path / "users.dat", "1 0\n")
    with pytest.raises(DataError, match="item_tags") as err:
        CiteULike(path=users, item_tags=str(tmp_path / "tags.dat")).load()
    assert str(tmp_path / "tags.dat") in str(err.value)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="empty"):
        CiteULike(path=write(tmp_path / "users.dat", "")).load()


@pytest.mark.parametrize("bad", [None, "", 3])
def test_bad_path_argument(bad: object) -> None:
    with pytest.raises(ValueError, match="path"):
        CiteULike(path=bad)  # type: ignore[arg-type]
