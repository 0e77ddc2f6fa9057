"""Row-sparse gradients of ID tables: coalesced locally, exchanged between workers as
(row ids, rows), and summed identically on every rank.

A step touches at most B·(N+2) rows of a table, so the exchange costs what the batch touched,
not what the table holds: every worker's coalesced rows reach every other worker, after which
every rank sums the same rows in the same order and applies the same update, so the replicas
stay bit-identical. On NCCL (GPUs) and on large gloo groups that is one ``all_gather``; on a
small gloo group (the CPU, ``raytrec.shards.transport.DIRECT_MAX`` workers or fewer) each pair
of workers swaps its rows directly with ``isend``/``irecv``, exactly sized: gloo's
``all_gather`` moves the same bytes slower than its point-to-point sends on one machine
(``benchmarks/README.md``, "Row-sparse ID tables"), and a direct swap sends no padding.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from raytrec.shards.transport import coalesce, direct


def gather_sizes(sizes: list[int], device: torch.device) -> torch.Tensor:
    """``(world, len(sizes))``: every rank's ``sizes``, in rank order."""
    mine = torch.tensor(sizes, dtype=torch.int64, device=device)
    out = [torch.empty_like(mine) for _ in range(dist.get_world_size())]
    dist.all_gather(out, mine)
    return torch.stack(out)


def gather_rows(ids: torch.Tensor, rows: torch.Tensor,
                sizes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Every rank's coalesced ``(ids, rows)``, summed: the sum of the row gradients over
    workers, the same tensors on every rank. ``sizes (world,)``: every rank's ``len(ids)``.

    Ids travel bit-for-bit as two float32 columns beside the rows, so one message carries
    both. Returns the ids, the rows and the bytes this rank received from the others.
    """
    width = rows.shape[1] + 2
    payload = torch.empty(len(ids), width, dtype=torch.float32, device=rows.device)
    payload[:, :2] = ids.to(torch.int64).view(torch.float32).view(-1, 2)
    payload[:, 2:] = rows
    parts = (send_pairwise(payload, sizes) if direct() else send_all_gather(payload, sizes))
    both = torch.cat(parts)
    every_id = both[:, :2].contiguous().view(torch.int64).view(-1)
    unique, summed = coalesce(every_id, both[:, 2:].to(rows.dtype))
    rank = dist.get_rank()
    received = sum(p.numel() for r, p in enumerate(parts) if r != rank) * payload.element_size()
    return unique, summed, received


def send_pairwise(payload: torch.Tensor, sizes: torch.Tensor) -> list[torch.Tensor]:
    """Every rank's payload, in rank order, sent and received pairwise."""
    rank = dist.get_rank()
    parts = [payload if r == rank else payload.new_empty(int(n), payload.shape[1])
             for r, n in enumerate(sizes.tolist())]
    works = []
    for r, part in enumerate(parts):
        if r != rank:
            works += [dist.isend(payload, r), dist.irecv(part, r)]
    for work in works:
        work.wait()
    return parts


def send_all_gather(payload: torch.Tensor, sizes: torch.Tensor) -> list[torch.Tensor]:
    """Every rank's payload, in rank order, through one ``all_gather`` of equal (padded)
    tensors."""
    padded = payload.new_zeros(int(sizes.max()), payload.shape[1])
    padded[: len(payload)] = payload
    parts = [torch.empty_like(padded) for _ in range(len(sizes))]
    dist.all_gather(parts, padded)
    return [part[: int(n)] for part, n in zip(parts, sizes.tolist(), strict=True)]
