"""Whether data a dataset generates fits in memory, told before any of it is made."""

from __future__ import annotations

from raytrec.errors import ArgumentError
from raytrec.memory import available_memory, gigabytes

# Measured on the synthetic dataset: ~50 bytes per interaction at its peak while generating;
# preparing the data (split, id maps, Parquet) holds about as much again.
BYTES_PER_ROW = 100
BYTES_PER_ID = 64  # per user and per item: clusters, features, id maps


def memory_problem(key: str, rows: int, ids: int) -> ArgumentError | None:
    """``<key> makes about ...``, naming the argument ``key``, when ``rows`` interactions over
    ``ids`` users and items need more than half the memory free now (the rest: the model, Ray,
    the OS); else None."""
    free = available_memory()
    need = rows * BYTES_PER_ROW + ids * BYTES_PER_ID
    if free is None or need <= free // 2:
        return None
    return ArgumentError(key, f"makes about {rows:.3g} interactions over {ids:.3g} users and "
                              f"items, about {gigabytes(need)} in memory, more than half the "
                              f"{gigabytes(free)} free; lower data.{key}")


def generated_problem(num_users: int, num_items: int,
                      per_user: float) -> ArgumentError | None:
    """``memory_problem`` of ``per_user`` interactions for each of ``num_users`` (at most
    the catalogue each), keyed by whichever count weighs more."""
    rows = int(num_users * min(per_user, num_items))
    key = "num_items" if num_items * BYTES_PER_ID > rows * BYTES_PER_ROW else "num_users"
    return memory_problem(key, rows, num_users + num_items)
