"""Sessions from event tables: order, sessionizing by gap, GRU4Rec's time split."""

from __future__ import annotations

import numpy as np
import pandas as pd
from raytrec_gru4rec.sessions import DAY_S, from_events, sessionize, split_by_time


def events(rows: list[tuple[object, object, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "item", "timestamp"])


def test_sessions_keep_time_order_and_drop_single_events() -> None:
    frame = events([("b", "x", 5.0), ("a", "y", 2.0), ("a", "x", 1.0), ("c", "z", 0.0),
                    ("b", "y", 4.0), ("a", "x", 3.0)])
    items = pd.Index(["x", "y", "z"])
    got = from_events(frame, items)
    # a starts at t=1, b at t=4; c has one event
    assert got.offsets.tolist() == [0, 3, 5]
    assert [items[i] for i in got.items] == ["x", "y", "x", "y", "x"]
    assert got.transitions == 3


def test_a_gap_longer_than_the_limit_starts_a_session() -> None:
    ratings = pd.DataFrame({"user": [1, 1, 1, 2, 2], "item": [10, 11, 12, 10, 13],
                            "timestamp": [0.0, 100.0, 5000.0, 50.0, 60.0]})
    cut = sessionize(ratings, "user", gap_s=3600)
    assert cut.groupby("session")["item"].apply(list).tolist() == [[10, 11], [12], [10, 13]]


def test_the_last_day_is_test_and_test_items_unseen_in_training_are_dropped() -> None:
    day = DAY_S
    frame = events([
        ("s1", "a", 0.0), ("s1", "b", 10.0),
        ("s2", "b", 1.0 * day), ("s2", "c", 1.0 * day + 5),
        ("s3", "a", 2.5 * day), ("s3", "new", 2.5 * day + 1), ("s3", "c", 2.5 * day + 2),
        ("s4", "new", 2.6 * day), ("s4", "a", 2.6 * day + 1),  # one known event left
        ("s5", "b", 1.3 * day), ("s5", "a", 1.3 * day + 3),
    ])
    split = split_by_time(frame, test_days=1.0, valid_days=0.5)
    assert list(split.items) == ["a", "b", "c"]
    names = list(split.items)
    assert [names[i] for i in split.test.items] == ["a", "c"]  # s3 without "new"; s4 dropped
    assert len(split.valid) == 1 and len(split.train) == 2  # s5 ends in the half day before
    assert split.dropped["test events of items not in training"] == 2
    assert split.dropped["events of sessions shorter than 2"] == 1
    assert np.all(np.diff(split.test.times) >= 0)
