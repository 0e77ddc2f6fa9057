"""ID embeddings: one vector per user and per item (MF, BPR, CML)."""

from __future__ import annotations

import math

import torch

from raytrec.data.base import DataInfo
from raytrec.errors import ArgumentError
from raytrec.mappers.base import Mapper, check_distance

# Positives per block when scoring candidates: (512 · N · D) floats stay in cache.
_ROWS = 512


class EmbeddingMapper(Mapper):
    """User and item embedding tables.

    Args:
        dim: vector size D (the CML paper uses 100).
        distance: ``l2`` for CML (score ``-d²``), ``dot`` for MF/BPR, or ``cosine``.
        max_norm: after every step, rows longer than this are scaled back onto the ball
            (CML's unit-ball constraint ``‖u‖ ≤ 1``); ``None`` leaves them free.
        init_std: std of the normal initialisation; default ``1/sqrt(dim)``.
    """

    def __init__(
        self, dim: int = 64, distance: str = "dot", max_norm: float | None = None,
        init_std: float | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(dim, int) or dim < 1:
            raise ArgumentError("dim", f"must be a positive integer, got {dim!r}")
        if max_norm is not None and max_norm <= 0:
            raise ArgumentError("max_norm", f"must be > 0 or null, got {max_norm}")
        if init_std is not None and init_std <= 0:
            raise ArgumentError("init_std", f"must be > 0, got {init_std}")
        self.dim, self.distance = dim, check_distance(distance)
        self.max_norm, self.init_std = max_norm, init_std
        self.id_tables = ("user_emb", "item_emb")
        # Reused between steps: fresh multi-MB allocations page-fault on every batch. A
        # non-persistent buffer: it follows the module to its device, never into a checkpoint.
        self.register_buffer("_buffer", torch.empty(0), persistent=False)

    def setup(self, info: DataInfo) -> None:
        std = self.init_std if self.init_std is not None else 1.0 / math.sqrt(self.dim)
        self.num_users, self.num_items = info.num_users, info.num_items
        self.user_emb = self.new_id_table(info.num_users, self.dim, std)
        self.item_emb = self.new_id_table(info.num_items, self.dim, std)
        self.constrain()

    def step_rows(self, users: torch.Tensor, items: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"user_emb": users, "item_emb": items}

    def queries(self, users: torch.Tensor) -> torch.Tensor:
        return self.lookup(self.user_emb, users)

    def items(self, ids: torch.Tensor) -> torch.Tensor:
        return self.lookup(self.item_emb, ids)

    def all_items(self, chunk: int = 65536) -> torch.Tensor:
        return self.item_emb

    @torch.no_grad()
    def score_candidates(self, q: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        shard = self._shards.get(id(self.item_emb))
        if shard is not None and ids.dim() == 2:  # scored where the rows are
            return shard.score(q, ids, self._pair_scores)
        table, ids = self.rows_of(self.item_emb, ids)
        want_norms = self.distance.needs_norms
        if ids.dim() == 1:
            rows = table[ids]
            dots, sq = q @ rows.T, (rows.pow(2).sum(1) if want_norms else None)
        else:
            dots, sq = self._candidate_dots(table, q, ids, want_norms)
        # Norms of the candidates only: a pass over the whole table would cost I·D per step.
        return self.distance.from_dots(dots, q, sq)

    def _pair_scores(self, q: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """``(P,)`` scores of the pairs ``q (P, D)``, ``rows (P, D)``, as ``_candidate_dots``
        and ``from_dots`` compute them (the same numbers, so the same candidates win)."""
        prod = rows * q
        sq = (rows * rows).sum(-1, keepdim=True) if self.distance.needs_norms else None
        return self.distance.from_dots(prod.sum(-1, keepdim=True), q, sq).squeeze(1)

    def _candidate_dots(self, table: torch.Tensor, q: torch.Tensor, ids: torch.Tensor,
                        norms: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(B, N)`` dot products (and squared norms of the candidates, if ``norms``),
        gathered and reduced a cache-sized block of rows at a time.

        Gathering all B·N candidate vectors at once streams a (B, N, D) tensor through memory
        three times; blocks of _ROWS positives stay in cache and run about twice as fast.
        """
        b, n = ids.shape
        rows = min(b, _ROWS)
        if self._buffer.numel() < rows * n * self.dim:
            self._buffer = torch.empty(rows * n * self.dim, device=q.device)
        out = torch.empty(b, n, device=q.device)
        sq = torch.empty(b, n, device=q.device) if norms else None
        for s in range(0, b, rows):
            e = min(s + rows, b)
            v = self._buffer[: (e - s) * n * self.dim].view((e - s) * n, self.dim)
            torch.index_select(table, 0, ids[s:e].reshape(-1), out=v)
            block = v.view(e - s, n, self.dim)
            if sq is not None:
                torch.sum(block * block, -1, out=sq[s:e])
            torch.sum(block.mul_(q[s:e].unsqueeze(1)), -1, out=out[s:e])
        return out, sq

    @torch.no_grad()
    def constrain(self, touched: dict[str, torch.Tensor] | None = None) -> None:
        if self.max_norm is None:
            return
        for name in self.id_tables:
            table = getattr(self, name).data
            # y' = y / max(‖y‖ / max_norm, 1), in place; on the touched rows when known.
            if touched is None or name not in touched:
                table.renorm_(2, 0, self.max_norm)
            elif len(rows := touched[name]):
                table.index_copy_(0, rows, table.index_select(0, rows).renorm_(2, 0,
                                                                                self.max_norm))
