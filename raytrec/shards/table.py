"""One ID table sharded by rows across the workers (``train.sharding: rows``).

Row ``i`` of a table of ``R`` rows lives on rank ``i % W``, as row ``i // W`` of that rank's
``local`` parameter (``ceil((R − rank) / W)`` rows): interleaved rather than in blocks, so the
popular ids — which data preparation numbers first — spread over every rank, and so does the
work of serving and updating them.

A lookup asks each owner for the unique ids the batch needs and gets their rows back (one
all-to-all of ids, one of rows); under autograd the rows it got become a leaf whose gradient
backward fills. ``owner_gradients`` (the optimiser's step) sends each such gradient row to
its owner and returns the sum of what every rank sent for this rank's rows. What a rank sends
and receives per step is therefore the part of what its own batch touched that others hold,
plus its share of what the others touched: a share (W − 1)/W of the rows, bounded as the
number of workers W grows, where replicas receive every other worker's rows (W − 1 batches').

Every rank must make the same lookups in the same order (the same code on batches of the
same shape does), since each is a collective; a lookup of rows a rank holds itself sends
nothing but the sizes. Within ``serving`` a lookup is not a collective: it reads the rows
fetched for the step (``fetch_rows``, which the step calls first), so a step waits on its
fetches and its gradients, not on each lookup.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.distributed as dist
from torch import nn

from raytrec.shards import transport


class ShardedTable:
    """The rows this rank owns of one ID table, and the routing to the others'.

    Attributes:
        name: the table's parameter name in its mapper.
        local: this rank's rows, the parameter the optimiser updates.
        num_rows: rows of the whole table.
        received_bytes: bytes received from other ranks so far (ids, rows and gradients).
        seconds: time spent routing so far, waits for the other ranks included.
    """

    def __init__(self, name: str, local: nn.Parameter, num_rows: int, rank: int,
                 world: int) -> None:
        self.name, self.local, self.num_rows = name, local, num_rows
        self.rank, self.world = rank, world
        self.received_bytes, self.seconds = 0, 0.0
        self._pending: list[tuple[torch.Tensor, torch.Tensor]] = []
        # The whole table, while ``ItemModel.whole_tables`` holds it: lookups read it here.
        self.whole: torch.Tensor | None = None
        self._cache_ids = torch.empty(0, dtype=torch.int64, device=local.device)
        self._cache_rows = local.detach().new_empty(0, local.shape[1])
        # Inside ``serving``: lookups read the rows fetched this step, with no exchange.
        self.served = False

    def lookup(self, ids: torch.Tensor) -> torch.Tensor:
        """Rows ``ids`` (any shape ``S``, global ids) -> ``(*S, D)``, differentiable: the
        gradient reaches the owners at the optimiser's step."""
        if self.whole is not None:
            return self.whole.index_select(0, ids.reshape(-1)).view(*ids.shape, -1)
        unique, inverse = torch.unique(ids.reshape(-1), sorted=True, return_inverse=True)
        rows = self._cached(unique) if self.served else self.fetch(unique)
        if torch.is_grad_enabled() and self.local.requires_grad:
            rows.requires_grad_()
            self._pending.append((unique, rows))
        return rows.index_select(0, inverse).view(*ids.shape, rows.shape[1])

    @torch.no_grad()
    def fetch(self, ids: torch.Tensor) -> torch.Tensor:
        """Rows ``ids (U,)`` (sorted, unique) from their owners, ``(U, D)``, without gradient.

        Rows fetched earlier in the step are kept until its optimiser step (``new_step``):
        the two-phase step scores candidates without gradient, then looks the chosen ones up
        again, which then asks the owners for nothing (one exchange of sizes). ``fetch_rows``
        (the function) fetches from several tables in one exchange."""
        (rows,) = fetch_rows([(self, ids)])
        return rows

    def _missing(self, ids: torch.Tensor) -> torch.Tensor:
        """Of sorted unique ``ids``, those not fetched yet this step."""
        cached = self._cache_ids
        if not len(cached):
            return ids
        at = torch.searchsorted(cached, ids).clamp_(max=len(cached) - 1)
        return ids[cached[at] != ids]

    def _cached(self, ids: torch.Tensor) -> torch.Tensor:
        """The rows of sorted unique ``ids``, every one fetched earlier this step."""
        missing = self._missing(ids)
        if len(missing):
            raise RuntimeError(
                f"ID table {self.name!r}: the step looked up {len(missing)} rows it did not "
                f"fetch first (ids {missing[:5].tolist()}...); a mapper's step_rows must name "
                "every row its queries and items read (raytrec.testing.check_mapper checks it)")
        cached = self._cache_ids
        return self._cache_rows.index_select(0, torch.searchsorted(cached, ids))

    def _remember(self, missing: torch.Tensor, got: torch.Tensor,
                  ids: torch.Tensor) -> torch.Tensor:
        """Keep the rows ``got`` of ``missing`` for the rest of the step; the rows ``ids``."""
        merged, order = torch.sort(torch.cat([self._cache_ids, missing]))
        self._cache_ids = merged
        self._cache_rows = torch.cat([self._cache_rows, got]).index_select(0, order)
        return self._cache_rows.index_select(0, torch.searchsorted(merged, ids))

    @torch.no_grad()
    def score(self, q: torch.Tensor, ids: torch.Tensor,
              pair_scores: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
              ) -> torch.Tensor:
        """Scores ``(B, N)`` of queries ``q (B, D)`` against the rows ``ids (B, N)``, each
        computed where its row lives: an owner gets the queries with candidates among its
        rows and the (query, row) pairs, and sends back one number per pair. Per candidate,
        three numbers travel instead of a row of D (plus the queries, once per owner).
        ``pair_scores(queries (P, D), rows (P, D)) -> (P,)``."""
        if self.whole is not None:
            rows = self.whole.index_select(0, ids.reshape(-1))
            queries = q.repeat_interleave(ids.shape[1], dim=0)
            return pair_scores(queries, rows).view(ids.shape)
        started = time.perf_counter()
        flat = ids.reshape(-1)
        which = torch.arange(len(q), device=ids.device).repeat_interleave(ids.shape[1])
        order, pairs = self._by_owner(flat)
        split = pairs.tolist()
        id_parts = list(flat[order].split(split))
        query_parts, index_parts = [], []
        for part in which[order].split(split):
            mine, index = torch.unique(part, sorted=True, return_inverse=True)
            query_parts.append(q.index_select(0, mine))
            index_parts.append(index)
        got, coming = transport.exchange([id_parts, index_parts, query_parts])
        answers = [pair_scores(queries.index_select(0, index), self._own_rows(rows))
                   for rows, index, queries in zip(*got, strict=True)]
        back = transport.all_to_all([answers], [split])
        self.received_bytes += transport.received_bytes([*got, *back]) + \
            coming.numel() * coming.element_size()
        out = torch.empty(len(flat), dtype=q.dtype, device=q.device)
        out[order] = torch.cat(back[0])
        self.seconds += time.perf_counter() - started
        return out.view(ids.shape)

    def new_step(self) -> None:
        """Forget the rows fetched so far: the optimiser is about to change them."""
        self._cache_ids = self._cache_ids[:0]
        self._cache_rows = self._cache_rows[:0]

    def _by_owner(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The order that groups ``ids`` by the rank holding each (ascending ranks, ids in
        their order within), and how many each rank holds."""
        owner = ids % self.world
        return torch.argsort(owner, stable=True), torch.bincount(owner, minlength=self.world)

    def _own_rows(self, ids: torch.Tensor) -> torch.Tensor:
        """Rows of ids this rank holds (every request was routed by ``_by_owner``)."""
        return self.local.detach().index_select(0, torch.div(ids, self.world,
                                                              rounding_mode="floor"))

    def _outgoing(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """This step's gradient rows, summed per id and grouped by owner: ids, rows, and how
        many go to each rank; the step's lookups are forgotten."""
        done = [(ids, rows.grad) for ids, rows in self._pending if rows.grad is not None]
        self._pending.clear()
        self.new_step()
        width, like = self.local.shape[1], self.local.detach()
        ids = torch.cat([ids for ids, _ in done]) if done else \
            torch.empty(0, dtype=torch.int64, device=like.device)
        grads = torch.cat([g for _, g in done]) if done else like.new_empty(0, width)
        ids, grads = transport.coalesce(ids, grads)
        order, sent = self._by_owner(ids)
        return ids[order], grads[order], sent

    @torch.no_grad()
    def weighted_sum(self, weights: torch.Tensor) -> torch.Tensor:
        """``weights (num_rows,) @ table``, ``(D,)``, without gradient (a collective: every
        rank calls it, whatever its batch holds)."""
        mine = weights[self.rank::self.world].to(self.local.dtype) @ self.local.detach()
        dist.all_reduce(mine)
        return mine

    def discard(self) -> None:
        """Forget this step's lookups and rows (a step abandoned before the optimiser ran)."""
        self._pending.clear()
        self.new_step()


@torch.no_grad()
def fetch_rows(requests: Sequence[tuple[ShardedTable, torch.Tensor]]) -> list[torch.Tensor]:
    """``ShardedTable.fetch`` of several tables (the same tables in the same order on every
    rank) in one exchange: every table's ids to their owners together (with their sizes),
    then every table's rows back. Returns the rows of each request's ids."""
    if any(shard.whole is not None for shard, _ in requests):
        return [shard.whole.index_select(0, ids) if shard.whole is not None else
                fetch_rows([(shard, ids)])[0] for shard, ids in requests]
    started = time.perf_counter()
    missing = [shard._missing(ids) for shard, ids in requests]
    grouped = [shard._by_owner(ids) for (shard, _), ids in zip(requests, missing, strict=True)]
    theirs, wanted = transport.exchange(
        [list(ids[order].split(asked.tolist()))
         for ids, (order, asked) in zip(missing, grouped, strict=True)])
    answers = transport.all_to_all(
        [[shard._own_rows(asked) for asked in theirs[j]] for j, (shard, _) in enumerate(requests)],
        [asked.tolist() for _, asked in grouped])
    found = []
    for j, (shard, ids) in enumerate(requests):
        shard.received_bytes += transport.received_bytes([theirs[j], answers[j]]) + \
            wanted[:, j].numel() * wanted.element_size()
        rows = shard.local.new_empty(len(missing[j]), shard.local.shape[1])
        rows[grouped[j][0]] = torch.cat(answers[j])
        found.append(shard._remember(missing[j], rows, ids))
    spent = time.perf_counter() - started
    for shard, _ in requests:  # one wait for them all: each table counts its part of it
        shard.seconds += spent / len(requests)
    return found


def owner_gradients(shards: Sequence[ShardedTable]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The gradients of this step's lookups of every table of ``shards`` (the same tables
    in the same order on every rank), summed per row over every rank, for the rows this rank
    owns: per table, sorted local row indices and their rows. Every rank calls it once per
    step, after backward. One exchange for all the tables: every table's ids and gradient
    rows together, with their sizes."""
    started = time.perf_counter()
    outgoing = [shard._outgoing() for shard in shards]
    parts: list[list[torch.Tensor]] = []
    for ids, grads, sent in outgoing:
        split = sent.tolist()
        parts += [list(ids.split(split)), list(grads.split(split))]
    received, coming = transport.exchange(parts)
    found = []
    for j, shard in enumerate(shards):
        ids, grads = received[2 * j:2 * j + 2]
        shard.received_bytes += transport.received_bytes([ids, grads]) + \
            coming[:, 2 * j:2 * j + 2].numel() * coming.element_size()
        local = torch.div(torch.cat(ids), shard.world, rounding_mode="floor")
        found.append(transport.coalesce(local, torch.cat(grads)))
    spent = time.perf_counter() - started
    for shard in shards:  # one wait for them all: each table counts its part of it
        shard.seconds += spent / len(shards)
    return found


@contextmanager
def serving(shards: Sequence[ShardedTable]) -> Iterator[None]:
    """Within: lookups of ``shards`` read only the rows fetched for them this step, and so
    exchange nothing. Every rank enters it around the same code, after fetching what that
    code reads (``Mapper.prefetch``); a lookup of a row not fetched raises."""
    for shard in shards:
        shard.served = True
    try:
        yield
    finally:
        for shard in shards:
            shard.served = False


def shard_rows(full: torch.Tensor, rank: int, world: int) -> torch.Tensor:
    """The rows of ``full`` that ``rank`` owns, as a tensor of their own."""
    return full.detach()[rank::world].clone()


def gather_table(table: ShardedTable, root: int | None = None) -> torch.Tensor | None:
    """The whole table (a collective), on every rank, or on ``root`` only (None elsewhere).

    On ``root`` the rows arrive one worker at a time into the whole table, so at most one
    worker's rows are held beside it (the end of a run on a catalogue that only fits the
    cluster); on every rank they travel once, padded to the largest shard."""
    sizes = [len(range(r, table.num_rows, table.world)) for r in range(table.world)]
    local = table.local.detach()
    if root is not None:
        if table.rank != root:
            dist.send(local.contiguous(), root)
            return None
        full = local.new_empty(table.num_rows, local.shape[1])
        for r, n in enumerate(sizes):
            if r == root:
                full[r::table.world] = local
                continue
            rows = local.new_empty(n, local.shape[1])
            dist.recv(rows, r)
            full[r::table.world] = rows
            del rows
        return full
    padded = local.new_zeros(max(sizes), local.shape[1])
    padded[: len(local)] = local
    parts = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(parts, padded)
    full = local.new_empty(table.num_rows, local.shape[1])
    for r, part in enumerate(parts):
        full[r::table.world] = part[: sizes[r]]
    return full
