"""Drawing an ID table's initial values so that a worker that keeps only its rows of it
never holds the whole table, and draws what a worker keeping all of them does."""

from __future__ import annotations

import torch
from torch import nn

# Rows drawn at a time: a table is drawn block by block, whoever keeps which rows of it.
BLOCK = 1 << 18


def draw_rows(num_rows: int, dim: int, std: float, rank: int = 0,
              world: int = 1) -> nn.Parameter:
    """A ``(num_rows, dim)`` ID table drawn from N(0, std²) with the global generator — or,
    with ``world`` > 1, only the rows ``i % world == rank`` of it (``shards.table``'s
    layout), holding one block of ``BLOCK`` rows beside them.

    Every caller draws the whole table, one block at a time, and keeps its rows: the values
    do not depend on ``world``, and the generator is left where it would be either way. The
    table is made on the current default device (``meta`` when sized, never allocated).
    The returned parameter's ``num_rows`` says how many rows the whole table has.
    """
    keep = torch.empty(len(range(rank, num_rows, world)), dim)
    for start in range(0, num_rows, BLOCK):
        block = torch.randn(min(BLOCK, num_rows - start), dim).mul_(std)
        first = (rank - start) % world  # the first row of the block this rank keeps
        rows = block[first::world]
        at = (start + first) // world
        keep[at:at + len(rows)] = rows
    table = nn.Parameter(keep)
    table.num_rows = num_rows  # type: ignore[attr-defined]
    return table
