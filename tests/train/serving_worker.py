"""``python serving_worker.py RANK WORLD PORT``, run by ``gloo.run_ranks``: the exchange of
tensors whose sizes the receivers do not know, pairwise and through ``all_to_all_single``;
and lookups of a sharded table within ``serving``, which read the rows fetched before and
exchange nothing, or raise for a row that was not fetched.

Run by ``test_exchange.py``; a failed check fails the rank."""

from __future__ import annotations

import sys

import torch
from gloo import join, leave  # beside this script
from torch import nn

from raytrec.shards import transport
from raytrec.shards.table import ShardedTable, fetch_rows, serving

ROWS, WIDTH = 10, 3


def check_exchange(rank: int, world: int) -> None:
    """Rank ``r`` sends rank ``p`` ``r + p`` numbers ``10 r + p``, and rows of 4 only when
    ``r`` is odd: every size, nothing included, arrives as sent."""
    numbers = [torch.full((rank + p,), 10 * rank + p) for p in range(world)]
    rows = [torch.ones(2 * (rank % 2), 4) * rank for _ in range(world)]
    got, sizes = transport.exchange([numbers, rows])
    for p in range(world):
        assert torch.equal(got[0][p], torch.full((p + rank,), 10 * p + rank)), (p, got[0][p])
        assert torch.equal(got[1][p], torch.ones(2 * (p % 2), 4) * p), (p, got[1][p])
        assert sizes[p].tolist() == [p + rank, 2 * (p % 2)], sizes


def check_serving(rank: int, world: int) -> None:
    """Row ``i`` of the table is ``i`` in every column."""
    whole = torch.arange(ROWS, dtype=torch.float32).unsqueeze(1).expand(ROWS, WIDTH)
    table = ShardedTable("item_emb", nn.Parameter(whole[rank::world].clone()), ROWS, rank,
                         world)
    ids = torch.tensor([[rank, 3], [4, 7]])
    exchanges = 0
    exchange = transport.exchange

    def counted(parts: list[list[torch.Tensor]]):  # type: ignore[no-untyped-def]
        nonlocal exchanges
        exchanges += 1
        return exchange(parts)

    transport.exchange = counted
    try:
        fetch_rows([(table, ids.unique())])
        with serving([table]):
            rows = table.lookup(ids)
            assert exchanges == 1, f"{exchanges} exchanges; the lookup should make none"
            assert torch.equal(rows, ids.float().unsqueeze(-1).expand(2, 2, WIDTH)), rows
            try:
                table.lookup(torch.tensor([9]))
            except RuntimeError as error:
                assert "'item_emb'" in str(error) and "step_rows" in str(error), error
            else:
                raise AssertionError("a row not fetched was served")
        assert not table.served
        table.new_step()
        assert torch.equal(table.lookup(torch.tensor([9])), torch.full((1, WIDTH), 9.0))
        assert exchanges == 2, exchanges  # outside serving, a lookup fetches
    finally:
        transport.exchange = exchange


def main(rank: int, world: int, port: int) -> None:
    torch.set_num_threads(1)
    join(rank, world, port)
    for direct_max in (transport.DIRECT_MAX, 0):  # pairwise, then all_to_all_single
        transport.DIRECT_MAX = direct_max
        check_exchange(rank, world)
        check_serving(rank, world)
    leave(world)


if __name__ == "__main__":
    main(*map(int, sys.argv[1:4]))
