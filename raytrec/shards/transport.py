"""Tensors of any length between the ranks of the process group: each rank sends each other
rank a tensor of its own, sized by what the two of them need (an all-to-all), or the same
tensor to all.

On NCCL (GPUs) and on large gloo groups an all-to-all is one ``all_to_all_single`` (with split
sizes); on a small gloo group (the CPU, ``DIRECT_MAX`` workers or fewer) each pair of ranks
swaps its tensors directly with ``isend``/``irecv``: gloo's collectives move the same bytes
slower than its point-to-point sends on one machine (``benchmarks/README.md``, "Row-sparse ID
tables"), and a direct swap sends nothing to a rank that wants nothing.
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist

DIRECT_MAX = 8
"""Most gloo ranks that swap tensors pairwise: each talks to every other over a connection of
its own."""


def direct() -> bool:
    """Whether this group swaps tensors pairwise rather than through a collective."""
    return dist.get_backend() == "gloo" and dist.get_world_size() <= DIRECT_MAX


def coalesce(ids: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sorted unique ``ids`` and the sum of the ``rows (len(ids), D)`` that share each."""
    unique, inverse = torch.unique(ids, sorted=True, return_inverse=True)
    summed = torch.zeros(len(unique), rows.shape[1], dtype=rows.dtype, device=rows.device)
    return unique, summed.index_add_(0, inverse, rows)


def counts(sizes: torch.Tensor) -> torch.Tensor:
    """``sizes (world, ...)``: how many rows this rank sends each rank (of each of several
    tensors); returns how many each rank sends this one (one all-to-all of integers)."""
    out = torch.empty_like(sizes)
    dist.all_to_all_single(out, sizes)
    return out


def all_to_all(parts: list[list[torch.Tensor]],
               sizes: list[list[int]]) -> list[list[torch.Tensor]]:
    """Several all-to-alls at once: ``parts[j][r]`` goes to rank ``r`` (this rank's own stays);
    ``sizes[j][r]``: the rows rank ``r`` sends this one in ``j``. Returns ``received[j][r]``,
    what rank ``r`` sent, in rank order; every ``parts[j][r]`` of one ``j`` has the same
    trailing shape and dtype."""
    rank = dist.get_rank()
    received = [[own[rank] if r == rank else own[rank].new_empty((n, *own[rank].shape[1:]))
                 for r, n in enumerate(counts_j)] for own, counts_j in zip(parts, sizes,
                                                                            strict=True)]
    if direct():
        works = []
        for j, own in enumerate(parts):
            for r, n in enumerate(sizes[j]):
                if r == rank:
                    continue
                # Both ends know both sizes, so neither posts a message of nothing.
                if len(own[r]):
                    works.append(dist.isend(own[r].contiguous(), r, tag=j))
                if n:
                    works.append(dist.irecv(received[j][r], r, tag=j))
        for work in works:
            work.wait()
        return received
    for j, own in enumerate(parts):
        flat = torch.cat([p.reshape(len(p), math.prod(p.shape[1:])) for p in own])
        out = flat.new_empty(sum(sizes[j]), flat.shape[1])
        dist.all_to_all_single(out, flat, output_split_sizes=list(sizes[j]),
                               input_split_sizes=[len(p) for p in own])
        for r, piece in enumerate(out.split(list(sizes[j]))):
            if r != rank:
                received[j][r] = piece.view(received[j][r].shape)
    return received


def exchange(parts: list[list[torch.Tensor]]) -> tuple[list[list[torch.Tensor]], torch.Tensor]:
    """``all_to_all`` when the receivers do not know the sizes yet: ``parts[j][r]`` goes to
    rank ``r``. Returns what each rank sent (``received[j][r]``) and the sizes,
    ``(world, len(parts))``: rows rank ``r`` sent this one in ``j`` (counted among the bytes
    received, as ``counts`` would be).

    Swapping pairwise, each rank sends its sizes and its tensors at once and posts its
    receives as the sizes arrive: the sizes cost the time a message takes, not a round in
    which every rank waits for the slowest (``counts``, then ``all_to_all``)."""
    rank, world = dist.get_rank(), dist.get_world_size()
    mine = torch.tensor([[len(p[r]) for p in parts] for r in range(world)], dtype=torch.int64)
    if not direct():
        coming = counts(mine.to(parts[0][rank].device))
        return all_to_all(parts, coming.T.tolist()), coming
    header = len(parts)  # the sizes travel under a tag of their own, after the parts' tags
    works, heads = [], {}
    for r in range(world):
        if r == rank:
            continue
        works.append(dist.isend(mine[r].clone(), r, tag=header))
        works += [dist.isend(p[r].contiguous(), r, tag=j) for j, p in enumerate(parts) if len(p[r])]
        heads[r] = torch.empty(len(parts), dtype=torch.int64)
    for work in [dist.irecv(head, r, tag=header) for r, head in heads.items()]:
        work.wait()
    coming = torch.stack([mine[rank] if r == rank else heads[r] for r in range(world)])
    received = [[own[r] if r == rank else own[rank].new_empty((n, *own[rank].shape[1:]))
                 for r, n in enumerate(coming[:, j].tolist())] for j, own in enumerate(parts)]
    works += [dist.irecv(received[j][r], r, tag=j) for j in range(len(parts))
              for r in heads if len(received[j][r])]
    for work in works:
        work.wait()
    return received, coming


def received_bytes(received: list[list[torch.Tensor]]) -> int:
    """Bytes of ``received`` (``all_to_all``'s answer) that came from other ranks."""
    rank = dist.get_rank()
    return sum(t.numel() * t.element_size() for own in received
               for r, t in enumerate(own) if r != rank)
