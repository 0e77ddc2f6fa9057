"""``check_retriever``: results against exact search, in every distance, best first."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from raytrec.distance import DISTANCES
from raytrec.retrievers.base import Retriever
from raytrec.testing.common import build, check_pickles, fail_unless


def exact_scores(queries: np.ndarray, items: np.ndarray, distance: str) -> np.ndarray:
    """``(B, I)`` scores of every item, higher is better (``-d²`` for l2)."""
    if distance == "cosine":
        queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        items = items / np.linalg.norm(items, axis=1, keepdims=True)
    dots = queries @ items.T
    if distance != "l2":
        return dots
    return 2 * dots - (queries ** 2).sum(1, keepdims=True) - (items ** 2).sum(1)


def check_retriever(cls: type[Retriever], min_recall: float = 0.9, **kwargs: Any) -> None:
    """Check a retriever class built with ``kwargs``; an approximate index must find at least
    ``min_recall`` of the exact top 10 (1.0 for an exact one) on clustered random data."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, 16))
    items = (centres[rng.integers(0, 20, 2000)] + 0.3 * rng.normal(size=(2000, 16)))
    items = items.astype(np.float32)
    queries = items[rng.choice(2000, 50, replace=False)] + 0.05 * rng.normal(size=(50, 16))
    queries = queries.astype(np.float32)
    check_pickles(build(cls, kwargs, "retriever"))  # built on each worker from its config
    for distance in DISTANCES:
        retriever = build(cls, kwargs, "retriever")
        retriever.build(items, distance)
        scores, ids = retriever.search(queries, 10)
        fail_unless(ids.shape == scores.shape == (50, 10) and ids.dtype.kind == "i", retriever,
                    "search returns (scores, ids), both (B, k), ids integers")
        fail_unless(bool((np.diff(scores, axis=1) <= 1e-4).all()), retriever,
                    f"{distance}: results must come best first (scores descending)")
        truth = exact_scores(queries.astype(np.float64), items.astype(np.float64), distance)
        found = np.take_along_axis(truth, np.maximum(ids, 0), axis=1)
        fail_unless(np.allclose(found[ids >= 0], scores[ids >= 0], rtol=1e-3, atol=1e-3),
                    retriever, f"{distance}: scores must be the items' scores in the distance "
                    "(higher is better, -d² for l2) and match the ids returned beside them")
        top = np.argsort(-truth, axis=1)[:, :10]
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, top, strict=True)])
        fail_unless(recall >= min_recall, retriever,
                    f"{distance}: recall@10 against exact search is {recall:.2f}, below "
                    f"{min_recall}")
        _check_saved(cls, kwargs, retriever, items, queries, distance, ids)


def _check_saved(cls: type[Retriever], kwargs: dict[str, Any], retriever: Retriever,
                 items: np.ndarray, queries: np.ndarray, distance: str, ids: np.ndarray) -> None:
    """What ``save`` wrote, ``load``ed by a fresh instance, finds what the original found."""
    with tempfile.TemporaryDirectory() as tmp:
        saved = retriever.save(Path(tmp))
        fail_unless(_is_json(saved), retriever, "save must return JSON values (the manifest "
                    "keeps them)")
        again = build(cls, kwargs, "retriever")
        again.load(Path(tmp), json.loads(json.dumps(saved)), items, distance)
        _, found = again.search(queries, 10)
    fail_unless(bool((found == ids).all()), again, f"{distance}: after save and load the "
                "index must find what it found before")


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
