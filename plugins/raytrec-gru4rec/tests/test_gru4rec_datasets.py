"""The session datasets: the Yoochoose sample, a sessions file, MovieLens-100K cut into
sessions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from raytrec_gru4rec.datasets import SessionsFile, YoochooseSample
from raytrec_gru4rec.yoochoose import read_sample

from raytrec.errors import DataError


def test_the_yoochoose_sample_is_read_as_click_events(tmp_path: Path) -> None:
    raw = YoochooseSample(cache_dir=str(tmp_path)).load()  # fetched once, sha256-checked
    frame = raw.interactions
    assert len(frame) == 3926 and frame["user"].nunique() == 1000
    assert frame["item"].nunique() == 1725
    assert frame.groupby("user")["timestamp"].apply(lambda t: t.is_monotonic_increasing).all()


def test_a_file_that_is_not_the_sample_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pd.DataFrame({"session_id": [1]}).to_parquet(path)
    with pytest.raises(DataError, match=r"other\.parquet has no column item_id/list"):
        read_sample(path)


def test_a_sessions_file_with_dates(tmp_path: Path) -> None:
    path = tmp_path / "clicks.csv"
    path.write_text("sid,item,when\n1,a,2014-04-01T10:00:00\n1,b,2014-04-01T10:01:00\n")
    raw = SessionsFile(str(path), session_col="sid", item_col="item", time_col="when").load()
    assert raw.interactions["timestamp"].diff().iloc[1] == 60.0


def test_a_sessions_file_missing_a_column_names_it(tmp_path: Path) -> None:
    path = tmp_path / "clicks.csv"
    path.write_text("session_id,item_id\n1,a\n")
    with pytest.raises(DataError, match="column 'timestamp' is not in"):
        SessionsFile(str(path)).load()
