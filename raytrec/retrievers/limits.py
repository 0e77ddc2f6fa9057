"""How large a FAISS option may be: what FAISS takes (a C int) and what a search can use."""

from __future__ import annotations

from raytrec.errors import ArgumentError

FAISS_INT = 2**31 - 1


def faiss_int(name: str, value: int, low: int = 1) -> int:
    """``value``, or ValueError naming ``name`` when FAISS cannot take it."""
    if not low <= value <= FAISS_INT:
        raise ArgumentError(name, f"must be from {low} to {FAISS_INT:,} (FAISS takes a C int), "
                            f"got {value}")
    return value


def k_factor(rerank: int, k: int, num_items: int) -> float:
    """``rerank`` as FAISS's refine factor, at most what covers the catalogue: more
    candidates than items find nothing more, and each query holds ``rerank × k`` of them."""
    return float(max(1.0, min(rerank, num_items / max(k, 1))))


def beam(ef: int, k: int, num_items: int) -> int:
    """An HNSW beam width: at least ``k``, at most the catalogue (it cannot hold more)."""
    return int(min(max(ef, k), max(num_items, k), FAISS_INT))
