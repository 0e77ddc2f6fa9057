"""Row-sparse gradients of ID tables: coalesced locally, exchanged between workers as
(row ids, rows), and summed identically on every rank.

A step touches at most B·(N+2) rows of a table, so the exchange costs what the batch touched,
not what the table holds: an ``all_gather`` of each worker's coalesced rows (over gloo on the
CPU, NCCL on GPUs), after which every rank sums the same rows in the same order and applies
the same update, so the replicas stay bit-identical.
"""

from __future__ import annotations

import torch
import torch.distributed as dist


def coalesce(ids: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sorted unique ``ids`` and the sum of the ``rows (len(ids), D)`` that share each."""
    unique, inverse = torch.unique(ids, sorted=True, return_inverse=True)
    summed = torch.zeros(len(unique), rows.shape[1], dtype=rows.dtype, device=rows.device)
    return unique, summed.index_add_(0, inverse, rows)


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


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

    Ids travel bit-for-bit as two float32 columns beside the rows, so one collective carries
    both. Returns the ids, the rows and the bytes this rank received.
    """
    width = rows.shape[1] + 2
    most = int(sizes.max())
    payload = torch.zeros(most, width, dtype=torch.float32, device=rows.device)
    payload[: len(ids), :2] = ids.to(torch.int64).view(torch.float32).view(-1, 2)
    payload[: len(ids), 2:] = rows
    parts = [torch.empty_like(payload) for _ in range(len(sizes))]
    dist.all_gather(parts, payload)
    kept = [part[: int(n)] for part, n in zip(parts, sizes, strict=True)]
    both = torch.cat(kept)
    every_id = both[:, :2].contiguous().view(torch.int64).view(-1)
    unique, summed = coalesce(every_id, both[:, 2:].to(rows.dtype))
    return unique, summed, payload.numel() * payload.element_size() * len(sizes)
