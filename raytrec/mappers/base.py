"""Mappers: torch modules that place queries and items in one space."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from raytrec.data.base import DataInfo
from raytrec.distance import DISTANCES, Distance, distance_named
from raytrec.errors import ArgumentError
from raytrec.shards import (
    ShardedEmbedding,
    ShardedTable,
    draw_rows,
    fetch_rows,
    gather_table,
    shard_embedding,
    shard_rows,
)


def check_distance(distance: str) -> Distance:
    """The distance a mapper's ``distance`` argument names."""
    if distance not in DISTANCES:
        raise ArgumentError("distance", f"must be one of {', '.join(DISTANCES)}, got {distance!r}")
    return distance_named(distance)


def _known(value: object) -> object:
    """``value``, or the ``Distance`` it names."""
    return distance_named(value) if isinstance(value, str) and value in DISTANCES else value


@dataclass
class MapperOutput:
    """What ``Mapper.forward`` returns for a batch.

    Attributes:
        query: ``(B, D)`` vectors of the users.
        item: ``(B, D)`` vectors of the positive items.
        negatives: vectors of the negatives, ``(B, N, D)`` or ``(N, D)`` as the ids were.
        item_features: ``(B, D)`` feature projections of the positive items, from a mapper
            that lists ``"item_features"`` in ``provides``; losses that ``require`` it read it
            as ``LossInput.item_features``.
    """

    query: torch.Tensor
    item: torch.Tensor
    negatives: torch.Tensor
    item_features: torch.Tensor | None = None


class ItemModel(nn.Module, ABC):
    """What every mapper is: item vectors in a metric space, and the parameters behind them.

    The optimiser (``train.sparse`` ID tables), ``constrain``, ``penalty`` and the index of
    item vectors work on this. How queries are made is the task's business (``raytrec.tasks``):
    the ``user-item`` task trains ``Mapper``s, whose queries are user ids; a task of another
    kind names its own subclass of ``ItemModel`` in ``Task.mapper_base``.
    """

    # How a query and an item vector score (``raytrec.distance.Distance``, whose docstring
    # holds the contract); a mapper may set it, as an attribute or in ``__init__``, by name.
    distance: Distance
    dim: int
    # Names of the ID tables (see "ID tables" in Mapper); set in __init__.
    id_tables: tuple[str, ...] = ()
    # The ID tables whose gradients are row-sparse this run, by name (set by the trainer).
    row_sparse: frozenset[str] = frozenset()
    _sparse_params: frozenset[int] = frozenset()
    # The ID tables sharded by rows across workers (``train.sharding: rows``), by parameter.
    _shards: Mapping[int, ShardedTable] = MappingProxyType({})
    # (rank, workers) when the ID tables will be sharded by rows (``place``, before setup).
    _placement: tuple[int, int] = (0, 1)
    num_items: int

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "distance" in vars(cls):
            cls.distance = _known(vars(cls)["distance"])  # type: ignore[assignment]

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, _known(value) if name == "distance" else value)

    @abstractmethod
    def setup(self, info: DataInfo) -> None:
        """Create parameters for the data of ``info`` (``info.num_items`` items)."""

    @abstractmethod
    def items(self, ids: torch.Tensor) -> torch.Tensor:
        """Item ids of any shape ``S`` -> vectors ``(*S, D)``."""

    def all_items(self, chunk: int = 65536) -> torch.Tensor:
        """``(I, D)`` vectors of every item, computed in chunks."""
        n = self.num_items
        device = next(self.parameters()).device
        parts = [self.items(torch.arange(s, min(s + chunk, n), device=device))
                 for s in range(0, n, chunk)]
        return torch.cat(parts)

    @torch.no_grad()
    def score_candidates(self, q: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Scores ``(B, N)`` of queries ``q (B, D)`` against ``ids (B, N)`` or ``(N,)``; no grad."""
        return self.distance.candidate_scores(q, self.items(ids))

    def deterministic_scores(self) -> bool:
        """Whether queries and ``items`` give the same vectors on every call in train mode
        and change no state: no dropout, no batch statistics.

        The trainer scores candidates without gradient (the two-phase step, the hard
        sampler) only for such a mapper; for any other, every candidate goes through the
        differentiable forward, so that selection and gradient see the same vectors. The
        default looks for dropout and batch-norm layers; override it when those serve only
        something else (a feature projection) or when the mapper draws random numbers itself.
        """
        noisy = (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._BatchNorm)
        return not any(isinstance(m, noisy) for m in self.modules())

    def lookup(self, table: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Rows ``ids`` (any shape ``S``) of an ID table ``(rows, D)`` -> ``(*S, D)``;
        a row-sparse gradient when the table is one of ``row_sparse``; from the workers
        that hold them when the table is sharded."""
        shard = self._shards.get(id(table))
        if shard is not None:
            return shard.lookup(ids)
        return F.embedding(ids, table, sparse=id(table) in self._sparse_params)

    @torch.no_grad()
    def rows_of(self, table: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor,
                                                                       torch.Tensor]:
        """For scoring without gradient: a table holding the rows ``ids`` need and the ids
        into it — ``table`` itself and ``ids``, or, when it is sharded, the rows fetched
        from their workers and the positions of ``ids`` among them."""
        shard = self._shards.get(id(table))
        if shard is None:
            return table.detach(), ids
        unique, inverse = torch.unique(ids.reshape(-1), sorted=True, return_inverse=True)
        return shard.fetch(unique), inverse.view(ids.shape)

    def place(self, rank: int, world: int) -> None:
        """Before ``setup``: this worker (``rank`` of ``world``) will keep only its rows of
        the ID tables (``train.sharding: rows``), so ``new_id_table`` draws only those."""
        self._placement = (rank, world)

    def new_id_table(self, num_rows: int, dim: int, std: float = 1.0) -> nn.Parameter:
        """A new ID table of ``num_rows`` rows of ``dim`` drawn from N(0, std²): create ID
        tables with it in ``setup``. When the run shards them (``place``), a worker draws
        only the rows it keeps and never holds the whole table; the values and the state
        of the global generator afterwards are the same either way. A table made otherwise
        is sharded after ``setup``, so each worker holds it whole for a moment."""
        return draw_rows(num_rows, dim, std, *self._placement)

    def shard_tables(self, names: Collection[str], rank: int,
                     world: int) -> dict[str, ShardedTable]:
        """Keep only the rows this ``rank`` of ``world`` owns of the ID tables ``names``
        (some of ``id_tables``): each becomes a parameter of those rows, read through
        ``lookup`` or its ``nn.Embedding`` from whichever worker holds a row. Returns the
        shards by table name."""
        params = dict(self.named_parameters())
        shards: dict[str, ShardedTable] = {}
        for name in names:
            owner_name, _, leaf = name.rpartition(".")
            owner = self.get_submodule(owner_name)
            full = params[name]
            num_rows = getattr(full, "num_rows", len(full))
            if self._placement == (rank, world) and hasattr(full, "num_rows"):
                local = full  # only this worker's rows were drawn (``new_id_table``)
            else:
                local = nn.Parameter(shard_rows(full, rank, world),
                                     requires_grad=full.requires_grad)
                setattr(owner, leaf, local)
            shards[name] = ShardedTable(name, local, num_rows, rank, world)
            if isinstance(owner, nn.Embedding) and leaf == "weight":
                shard_embedding(owner, shards[name])
        self._shards = {id(s.local): s for s in shards.values()}
        return shards

    @property
    def shards(self) -> dict[str, ShardedTable]:
        """The sharded ID tables, by name (none unless ``train.sharding`` is ``rows``)."""
        return {s.name: s for s in self._shards.values()}

    @contextlib.contextmanager
    def whole_tables(self) -> Iterator[None]:
        """Within: every worker holds every sharded table whole (gathered once, a
        collective) and reads it without asking the others, for work each worker does on
        its own — scoring its share of the sessions against the whole catalogue — at the
        memory of whole tables. Nothing for a mapper whose tables are not sharded."""
        shards = list(self._shards.values())
        for shard in shards:
            shard.whole = gather_table(shard)
        try:
            yield
        finally:
            for shard in shards:
                shard.whole = None

    def unshard(self, root: int = 0) -> None:
        """Gather every sharded table whole on worker ``root`` (a collective), which then
        holds the whole model and reads it locally; the other workers keep their rows."""
        shards = self.shards
        if not shards or next(iter(shards.values())).rank != root:
            for shard in shards.values():
                gather_table(shard, root)
            return
        for name, shard in shards.items():
            full = gather_table(shard, root)
            assert full is not None
            owner_name, _, leaf = name.rpartition(".")
            owner = self.get_submodule(owner_name)
            setattr(owner, leaf, nn.Parameter(full, requires_grad=shard.local.requires_grad))
            if isinstance(owner, ShardedEmbedding):
                owner.__class__ = nn.Embedding
                del owner.shard
        self._shards = MappingProxyType({})

    def use_row_sparse(self, names: Collection[str]) -> dict[str, nn.Parameter]:
        """Make the ID tables ``names`` (some of ``id_tables``) row-sparse, the others
        dense; the row-sparse tables by name. Raises ValueError if ``id_tables`` names a
        parameter the mapper lacks."""
        params = dict(self.named_parameters())
        missing = [name for name in self.id_tables if name not in params]
        if missing:
            raise ValueError(f"{type(self).__name__}.id_tables names {', '.join(missing)}, "
                             f"which it does not have; its parameters: {', '.join(params)}")
        wanted = set(names)
        chosen = {name: params[name] for name in self.id_tables if name in wanted}
        self.row_sparse = frozenset(chosen)
        self._sparse_params = frozenset(id(p) for p in chosen.values())
        for module in self.modules():
            if isinstance(module, nn.Embedding):
                module.sparse = id(module.weight) in self._sparse_params
        return chosen

    def constrain(self, touched: dict[str, torch.Tensor] | None = None) -> None:
        """Project parameters back onto their constraint set after an optimizer step.

        ``touched``: under ``train.sparse``, the ids of the rows the step changed in each
        row-sparse ID table (by name); only those can have left the set. A table it does not
        name (a dense one beside row-sparse ones) may have changed anywhere, as may every
        parameter when it is None."""

    def penalty(self) -> torch.Tensor | None:
        """An extra loss term of the mapper itself (added to the loss), or None."""
        return None


class Mapper(ItemModel):
    """Base class of the mappers of the ``user-item`` task: queries are user ids.

    Writing a mapper:

    - Options go to ``__init__`` after ``super().__init__()`` (see the rules for every
      component in ``raytrec.hookspecs``). Set ``self.distance`` (``dot``, ``cosine`` or
      ``l2``, by name or as a ``raytrec.distance.Distance``; the mapper then holds the
      object, which the loop, the retrievers and serving ask how vectors score) and
      ``self.dim`` (the vectors' size).
      Create no parameters there: it runs during config validation.
    - ``setup(info)`` creates the parameters for ``info.num_users`` users and
      ``info.num_items`` items, and sets ``self.num_users`` and ``self.num_items``. Other
      tensors it derives from the data are buffers, ``register_buffer(name, t,
      persistent=False)``: the mapper's ``to(device)`` moves them, checkpoints leave them out,
      and workers never broadcast them. A plain tensor attribute would stay behind on the CPU.
    - ``queries(users (B,))`` -> ``(B, D)``; ``items(ids of any shape S)`` -> ``(*S, D)``.
    - ``forward(users, pos, neg)`` is the one differentiable entry point (so that
      DistributedDataParallel sees every use of the weights) and returns ``MapperOutput``.
      The default calls ``queries`` and ``items``; override it to share one pass (a tower
      with batch statistics) or to fill optional fields, listed in ``provides``.
    - If ``queries``/``items`` are random or update state in train mode (dropout, batch
      norm), ``deterministic_scores`` must say False (the default detects those layers).
    - A mapper with user features may override ``new_user_queries(features)`` to serve users
      outside the training data from their feature rows.
    - ``constrain`` projects after each optimiser step (CML's unit ball); ``penalty`` adds a
      term of the mapper's own to the loss.
    - ID tables: list in ``id_tables`` the names (as ``named_parameters`` gives them) of the
      ``(rows, D)`` tables the mapper reads by row only, and read them through
      ``self.lookup(table, ids)`` or an ``nn.Embedding``. Under ``train.sparse`` (on by
      default for such tables) their gradients are then row-sparse: a step updates, exchanges
      between workers and ``constrain``s only the rows it touched, at a cost that does not
      grow with the catalogue. Any other use of a listed table (a product with the whole
      table) must not need its gradient — detach it when the table is in
      ``self.row_sparse``. Under ``train.sharding: rows`` each worker holds only its rows of
      every listed table (``self.shards``, by name): a lookup fetches rows from the workers
      that hold them, so every worker must make the same lookups in the same order (the
      same code does), and a whole-table use must go through the ``ShardedTable`` (two-tower's
      mean ID embedding uses ``weighted_sum``). ``rows_of`` gives rows to score without
      gradient from either kind of table. Make each table with ``self.new_id_table(rows,
      D, std)`` (keep the parameter it returns, or pass it as an ``nn.Embedding``'s
      ``weight``): a sharded worker then draws only its rows; a table made otherwise is
      created whole on every worker before each keeps its rows. ``step_rows`` (optional)
      says which rows ``queries`` and ``items`` read, so that a sharded step fetches them in
      one exchange and its lookups of the tables it names then exchange nothing; it must
      name every row they read (a lookup of a row it missed raises).
    - Check with ``raytrec.testing.check_mapper(MyMapper, dim=32)``.
    """

    @abstractmethod
    def queries(self, users: torch.Tensor) -> torch.Tensor:
        """``(B,)`` user ids -> ``(B, D)`` query vectors."""

    # The optional ``MapperOutput`` fields ``forward`` fills (losses may require some).
    provides: tuple[str, ...] = ()

    def forward(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> MapperOutput:
        """``users (B,)``, ``pos (B,)``, ``neg (B, N)`` or ``(N,)`` -> the vectors of each."""
        return MapperOutput(self.queries(users), self.items(pos), self.items(neg))

    def step_rows(self, users: torch.Tensor, items: torch.Tensor) -> dict[str, torch.Tensor]:
        """The ids of the rows of each ID table (by name) that ``queries(users)`` and
        ``items(items)`` read. Optional: with sharded tables a step fetches them all in one
        exchange (``prefetch``) instead of one per table and lookup; by default none."""
        return {}

    def prefetch(self, users: torch.Tensor, items: torch.Tensor) -> list[ShardedTable]:
        """Fetch, in one exchange, the rows of the sharded ID tables that ``queries(users)``
        and ``items(items)`` read (``step_rows``), for the step's lookups to find; nothing
        unless tables are sharded. A collective then: every rank calls it each step. Returns
        the tables fetched from: within ``shards.serving`` of them, the step's lookups read
        the fetched rows and exchange nothing."""
        shards = self.shards
        requests = [(shards[name], torch.unique(ids.reshape(-1)))
                    for name, ids in self.step_rows(users, items).items() if name in shards]
        if requests:
            fetch_rows(requests)
        return [shard for shard, _ in requests]

    def new_user_queries(self, features: pd.DataFrame) -> torch.Tensor:
        """``(len(features), D)`` query vectors of users outside the training data, from
        their rows of user features (the columns of the dataset's user feature table), in
        order; what ``raytrec recommend --user-features`` serves them from. A mapper that
        reads no user features raises ``ValueError`` (the default)."""
        raise ValueError(f"{type(self).__name__} reads no user features, so users outside "
                         "the training data have no vector")
