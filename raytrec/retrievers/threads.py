"""FAISS's OpenMP threads, set from a retriever's ``threads`` option."""

from __future__ import annotations

import faiss

from raytrec.errors import ArgumentError


def check_threads(threads: int) -> int:
    if threads < 0:
        raise ArgumentError("threads", f"must be >= 0, got {threads}")
    return threads


def use_threads(threads: int) -> None:
    """``threads`` OpenMP threads for FAISS from now on; 0 keeps FAISS's default."""
    if threads:
        faiss.omp_set_num_threads(threads)
