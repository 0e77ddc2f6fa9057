"""The EASE baseline (Steck, 2019): a closed-form item-item ridge regression.

``B = I - P / diag(P)`` with ``P = (XᵀX + λI)⁻¹`` over the binary training matrix ``X``; a
user's scores are ``X_u B``. λ is chosen on the validation split from a log grid anchored at
the mean of ``diag(XᵀX)`` (the mean item popularity), so that the grid follows the data's scale
instead of one data set's number. It needs dense ``items × items`` matrices: ``fits`` says
whether a catalogue does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from raytrec.data.store import UserItems, read_info, read_user_items
from raytrec.evaluation.data import EvalData
from raytrec.evaluation.evaluate import evaluate
from raytrec.evaluation.users import sample_users
from raytrec.retrievers.faiss_flat import FaissFlatRetriever

GRID = tuple(10.0 ** e for e in np.arange(-2.0, 1.01, 0.5))  # × mean item popularity
MATRICES = 3  # XᵀX, its inverse and B are alive at once while fitting
UNKNOWN_FREE_BYTES = 4 * 1024**3  # a laptop's spare memory: about 13,000 items
# ``eval.ease: auto`` fits EASE after a run up to this many items: one inversion per λ of the
# grid costs 2n³ flops, about 7 s at 5,000 items on two CPU cores (a minute for the grid),
# and 8 minutes for the grid at 10,000.
AUTO_MAX_ITEMS = 5_000


def needed_bytes(num_items: int) -> int:
    return MATRICES * num_items * num_items * 8


def fits(num_items: int, free_bytes: int | None) -> bool:
    """Whether the dense item-item matrices fit in half of the free memory (in
    ``UNKNOWN_FREE_BYTES`` where the free memory is not known)."""
    budget = UNKNOWN_FREE_BYTES if free_bytes is None else free_bytes // 2
    return needed_bytes(num_items) <= budget


def gram(train: UserItems, num_items: int) -> np.ndarray:
    """``XᵀX`` of the binary user-item matrix, float64."""
    from scipy.sparse import csr_matrix

    users = len(train.indptr) - 1
    x = csr_matrix((np.ones(len(train.indices)), train.indices, train.indptr),
                   shape=(users, num_items))
    return (x.T @ x).toarray()


def weights(g: np.ndarray, lam: float) -> np.ndarray:
    """EASE's ``B`` (zero diagonal) for ``XᵀX = g`` and ridge ``lam``, float32."""
    p = np.linalg.inv(g + lam * np.eye(len(g)))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b.astype(np.float32)


@dataclass
class EaseResult:
    lam: float
    valid: dict[str, float]
    test: dict[str, float]


def ease_metrics(data_dir: Path, ks: list[int], metric: str, chunk_size: int = 2048,
                 test_max_users: int | None = None, seed: int = 0) -> EaseResult:
    """Fit EASE on the training split for each λ of the grid, keep the best on validation
    ``metric``, and score it on test (every user, or ``test_max_users`` of them drawn by
    ``seed`` as the model's are) with the same ranking and metrics as the models."""
    info = read_info(data_dir)
    train = read_user_items(data_dir, "train", info.num_users)
    g = gram(train, info.num_items)
    scale = float(np.diag(g).mean()) or 1.0
    valid = EvalData.load(str(data_dir), "valid", info.num_users, train)
    best: tuple[float, float, dict[str, float], np.ndarray] | None = None
    for factor in GRID:
        b = weights(g, factor * scale)
        scores = _scores(b, train, valid, ks, chunk_size)
        if best is None or scores[metric] > best[0]:
            best = (scores[metric], factor * scale, scores, b)
    assert best is not None
    _, lam, valid_scores, b = best
    test = EvalData.load(str(data_dir), "test", info.num_users, train)
    users = sample_users(test.relevant.users(), test_max_users, seed)
    return EaseResult(lam, valid_scores, _scores(b, train, test, ks, chunk_size, users))


def _scores(b: np.ndarray, train: UserItems, data: EvalData, ks: list[int],
            chunk_size: int, users: np.ndarray | None = None) -> dict[str, float]:
    """Metrics of scores ``X_u B``: the users' training rows are the queries, B's columns the
    item vectors of a dot-product retriever."""
    num_items = len(b)
    retriever = FaissFlatRetriever()
    retriever.build(np.ascontiguousarray(b.T), "dot")

    def queries(users: np.ndarray) -> np.ndarray:
        rows = np.zeros((len(users), num_items), dtype=np.float32)
        for i, u in enumerate(users):
            rows[i, train.indices[train.indptr[u]:train.indptr[u + 1]]] = 1.0
        return rows

    users = data.relevant.users() if users is None else users
    return evaluate(queries, retriever, users, data.relevant, data.exclude, ks,
                    chunk_size).means()
