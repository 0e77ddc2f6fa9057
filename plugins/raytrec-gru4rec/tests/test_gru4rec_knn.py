"""The item-kNN baseline: co-occurrence in training sessions, regularised cosine."""

from __future__ import annotations

import numpy as np
import pytest
from raytrec_gru4rec.knn import ItemKNN
from raytrec_gru4rec.sessions import Sessions


def sessions(lists: list[list[int]]) -> Sessions:
    offsets = np.concatenate([[0], np.cumsum([len(x) for x in lists])]).astype(np.int64)
    items = np.concatenate(lists).astype(np.int64)
    return Sessions(offsets, items, np.arange(len(items), dtype=float))


def test_similarity_is_the_regularised_cosine_of_session_co_occurrence() -> None:
    train = sessions([[0, 1], [0, 1, 2], [0, 2, 2], [3, 1]])
    knn = ItemKNN(4, regularisation=20.0).fit(train)
    support = np.array([3, 3, 2, 1], dtype=float)  # sessions holding each item (2 once in s3)
    got = knn.scores(np.array([0])).numpy()[0]
    want = np.array([0, 2, 2, 0]) / np.sqrt((support[0] + 20) * (support + 20))
    assert got == pytest.approx(want)


def test_a_next_item_that_always_follows_ranks_first() -> None:
    train = sessions([[0, 1]] * 5 + [[2, 3]] * 5 + [[0, 4]])
    test = sessions([[0, 1], [2, 3]])
    got = ItemKNN(5).fit(train).evaluate(test, [1])
    assert got["recall@1"] == 1.0 and got["events"] == 2
