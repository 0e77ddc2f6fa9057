"""The optimiser of a run: the configured rule (``train.optimizer``, ``lr``) for the dense
parameters, and under ``train.sparse`` the same rule on the touched rows of the ID tables.

Row-sparse forms (``SPARSE``):

- ``adagrad``: exactly Adagrad on the rows a step touches. An untouched row's gradient is
  zero, so dense Adagrad leaves it alone too; the sparse form only skips the work.
- ``sgd``: exactly SGD on the touched rows, for the same reason.
- ``adam``: lazy Adam (torch's ``SparseAdam``, TensorFlow's ``LazyAdam``): a row's moments
  decay only on the steps that touch it, where dense Adam would decay them every step and
  keep moving a row after its last gradient.
- ``train.weight_decay`` is applied to the touched rows only (dense decay would shrink every
  row every step).

Checkpoints hold one state per parameter in the order of the mapper's then the loss's
parameters, whatever the split, so a run resumes across a change of ``train.sparse`` (and
from checkpoints written before it existed): Adagrad's and Adam's per-parameter state has the
same keys in either form.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from raytrec.config.run_config import RunConfig
from raytrec.mappers import Mapper
from raytrec.ranks import distributed
from raytrec.shards.table import owner_gradients
from raytrec.shards.transport import coalesce
from raytrec.train.rows import gather_rows, gather_sizes

DENSE = {"adagrad": torch.optim.Adagrad, "adam": torch.optim.Adam, "sgd": torch.optim.SGD}
SPARSE = {"adagrad": torch.optim.Adagrad, "adam": torch.optim.SparseAdam,
          "sgd": torch.optim.SGD}


def sparse_tables(config: RunConfig, mapper: Mapper, world_size: int = 1) -> tuple[str, ...]:
    """The ID tables to make row-sparse (``train.sparse``; call after ``mapper.setup``).

    ``auto``: the tables with more rows than ``world_size × batch_size``. One worker touches at
    least a batch's worth of rows of a table per step, so a smaller table is mostly touched
    every step and the fused dense update of all of it costs no more than the sparse
    machinery per touched row (a table of a few batches of rows is already faster row-sparse).
    With more workers the rows all of them touch travel after backward, while DDP's
    all-reduce of a dense table overlaps backward, so the bar rises with the workers (on
    MovieLens-1M-sized tables, a row-sparse user table made the 2-process step slower than
    whole tables under DDP). The measurements: benchmarks/README.md, "Row-sparse ID tables".
    """
    wanted = config.train.sparse
    if wanted != "auto":
        return tuple(mapper.id_tables) if wanted else ()
    params = dict(mapper.named_parameters())
    bar = config.train.batch_size * max(1, world_size)
    return tuple(name for name in mapper.id_tables
                 if name in params and params[name].shape[0] > bar)


class RunOptimizer:
    """Dense parameters under the configured torch optimiser (fused where it can be); ID
    tables, when row-sparse, under its sparse form over the rows of every worker.

    ``step`` returns the rows it changed in each table (None when no table is row-sparse),
    for ``Mapper.constrain``. A table sharded by rows (``Mapper.shard_tables``, called
    before) is row-sparse: its gradients come from the workers that looked its rows up, and
    each worker updates the rows it holds (row indices of its shard).
    """

    def __init__(self, config: RunConfig, mapper: Mapper,
                 own: Any = (), sparse: tuple[str, ...] = ()) -> None:
        train = config.train
        own = list(own)
        self.shards = mapper.shards
        self.id_tables = [p for name, p in mapper.named_parameters() if name in mapper.id_tables]
        self.tables: dict[str, nn.Parameter] = mapper.use_row_sparse({*sparse, *self.shards})
        table_ids = {id(p) for p in self.tables.values()}
        self.order = [*mapper.parameters(), *own]  # the checkpoint's order
        dense = [p for p in mapper.parameters() if id(p) not in table_ids]
        self.weight_decay = train.weight_decay
        groups = ([{"params": dense, "weight_decay": self.weight_decay}] if dense else []) + \
                 ([{"params": own, "weight_decay": 0.0}] if own else [])
        self.dense = _fused(DENSE[train.optimizer], groups, train.lr) if groups else None
        self.sparse = (SPARSE[train.optimizer](list(self.tables.values()), lr=train.lr)
                       if self.tables else None)
        if self.tables:
            # The optimisers build sparse tensors from coalesced parts; saying the (default)
            # choice out loud keeps torch from warning about it in every worker.
            torch.sparse.check_sparse_tensor_invariants.disable()
        # Bytes a worker receives per step: DDP all-reduces the dense mapper gradients; the
        # tables travel as their touched rows (counted as they are sent).
        self.dense_bytes = sum(p.numel() * p.element_size() for p in dense) \
            if distributed() else 0
        self.exchanged_bytes = 0
        self.exchange_seconds = 0.0  # in the row exchange (DDP's all-reduce hides in backward)
        self._shard_bytes, self._shard_seconds = 0, 0.0

    def zero_grad(self) -> None:
        if self.dense is not None:
            # In place: a fresh table-sized allocation per step page-faults on every batch.
            self.dense.zero_grad(set_to_none=False)
        for p in self.tables.values():
            p.grad = None
        for shard in self.shards.values():
            shard.discard()  # what an abandoned step looked up

    def step(self) -> dict[str, torch.Tensor] | None:
        touched = self._table_gradients() if self.sparse is not None else None
        if self.sparse is not None:
            self.sparse.step()
        if self.dense is not None:
            self.dense.step()
        self.exchanged_bytes += self.dense_bytes
        return touched

    def _table_gradients(self) -> dict[str, torch.Tensor]:
        """Replace each table's gradient by the coalesced sum over workers (divided by the
        world size, as DDP averages), with the decay of the touched rows; return their ids."""
        local = {name: self._local_rows(name, p) for name, p in self.tables.items()
                 if name not in self.shards}
        if distributed() and local:
            started = time.perf_counter()
            local = self._exchange(local)
            self.exchange_seconds += time.perf_counter() - started
        local.update(self._shard_gradients())
        touched = {}
        for name, p in self.tables.items():
            ids, rows = local[name]
            if self.weight_decay:
                rows += self.weight_decay * p.detach().index_select(0, ids)
            # Built here from coalesced parts: the invariant checks would re-sort them.
            p.grad = (torch.sparse_coo_tensor(ids.unsqueeze(0), rows, p.shape,
                                              is_coalesced=True, check_invariants=False)
                      if len(ids) else None)
            touched[name] = ids
        return touched

    def _shard_gradients(self) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """Each sharded table's gradient rows of the rows this worker holds, summed over
        workers and divided by their number (as DDP averages); the traffic and time of the
        step's lookups and of this routing counted."""
        out = {}
        found = owner_gradients(list(self.shards.values())) if self.shards else []
        for (name, shard), (ids, rows) in zip(self.shards.items(), found, strict=True):
            out[name] = (ids, rows / shard.world)
        if self.shards:
            sent = sum(s.received_bytes for s in self.shards.values())
            seconds = sum(s.seconds for s in self.shards.values())
            self.exchanged_bytes += sent - self._shard_bytes
            self.exchange_seconds += seconds - self._shard_seconds
            self._shard_bytes, self._shard_seconds = sent, seconds
        return out

    def table_bytes(self) -> int:
        """Bytes of the ID tables this worker holds (its shards of sharded ones) and of their
        optimiser state."""
        total = 0
        for p in self.id_tables:
            state = next((opt.state[p] for opt in self._parts() if p in opt.state), {})
            total += sum(t.numel() * t.element_size() for t in (p, *state.values())
                         if isinstance(t, torch.Tensor) and t.dim() > 0)
        return total

    def _exchange(self, local: dict[str, tuple[torch.Tensor, torch.Tensor]]
                  ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """Every worker's rows of every table, summed and divided by the world size. Tables
        of one width travel in one collective, their ids offset into one id space."""
        groups: dict[tuple[int, torch.dtype], list[str]] = {}
        for name, (_, rows) in local.items():
            groups.setdefault((rows.shape[1], rows.dtype), []).append(name)
        packed = []
        for names in groups.values():
            starts = [0]
            for name in names[:-1]:
                starts.append(starts[-1] + self.tables[name].shape[0])
            ids = torch.cat([local[n][0] + start for n, start in zip(names, starts, strict=True)])
            packed.append((names, starts, ids, torch.cat([local[n][1] for n in names])))
        device = next(iter(self.tables.values())).device
        sizes = gather_sizes([len(ids) for _, _, ids, _ in packed], device)
        out = {}
        for k, (names, starts, ids, rows) in enumerate(packed):
            ids, rows, received = gather_rows(ids, rows, sizes[:, k])
            rows /= len(sizes)
            self.exchanged_bytes += received
            # The ids come back sorted: each table's are one run of them.
            cuts = [*torch.searchsorted(ids, torch.tensor(starts, device=ids.device)).tolist(),
                    len(ids)]
            for i, name in enumerate(names):
                out[name] = (ids[cuts[i]:cuts[i + 1]] - starts[i], rows[cuts[i]:cuts[i + 1]])
        return out

    def _local_rows(self, name: str, p: nn.Parameter) -> tuple[torch.Tensor, torch.Tensor]:
        grad = p.grad
        if grad is None:
            empty = torch.empty(0, dtype=torch.int64, device=p.device)
            return empty, torch.empty(0, p.shape[1], dtype=p.dtype, device=p.device)
        if not grad.is_sparse:
            raise RuntimeError(
                f"ID table '{name}' got a dense gradient: the mapper reads it other than "
                "through Mapper.lookup or an nn.Embedding; read it that way, or leave it out "
                "of Mapper.id_tables")
        return coalesce(grad._indices()[0], grad._values())

    def state_dict(self) -> dict[str, Any]:
        """One state per parameter, keyed by its place in the checkpoint's order."""
        where = {id(p): i for i, p in enumerate(self.order)}
        state: dict[int, dict[str, Any]] = {}
        for opt in self._parts():
            for p, saved in opt.state.items():
                state[where[id(p)]] = {k: _step_tensor(v) if k == "step" else v
                                       for k, v in saved.items()}
        return {"state": state, "param_groups": [{"params": list(range(len(self.order)))}]}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        """Load this class's state or a torch optimizer's over the same parameters."""
        where = {id(p): i for i, p in enumerate(self.order)}
        for opt in self._parts():
            own = opt.state_dict()
            params = [p for group in opt.param_groups for p in group["params"]]
            own["state"] = {j: saved["state"][where[id(p)]] for j, p in enumerate(params)
                            if where[id(p)] in saved["state"]}
            opt.load_state_dict(own)

    def release(self) -> None:
        """Drop the optimisers' state (Adagrad's sums, Adam's moments) and their hold on the
        parameters (a worker's rows of sharded tables, once the whole model is gathered):
        no more steps."""
        for opt in self._parts():
            opt.state.clear()
            opt.param_groups.clear()
        self.dense = self.sparse = None
        self.tables, self.shards, self.order, self.id_tables = {}, {}, [], []

    def _parts(self) -> list[torch.optim.Optimizer]:
        return [opt for opt in (self.dense, self.sparse) if opt is not None]


def _step_tensor(step: Any) -> Any:
    """Steps as float tensors, as the fused and dense forms keep them (SparseAdam: ints)."""
    return step if isinstance(step, torch.Tensor) else torch.tensor(float(step))


def _fused(cls: type[torch.optim.Optimizer], groups: list[dict[str, Any]],
           lr: float) -> torch.optim.Optimizer:
    try:
        # One fused kernel per step instead of a pass per operation: ~3x faster on CPU.
        return cls(groups, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # a device or parameter kind without it
        return cls(groups, lr=lr)


def build_optimizer(config: RunConfig, mapper: Mapper, own: Any = ()) -> RunOptimizer:
    """The run's optimiser over ``mapper`` and ``own`` (a loss's own parameters, such as
    InfoNCE's log-temperature, never decayed: a decay would pull it towards a temperature
    of 1), row-sparse as ``train.sparse`` says for this many workers."""
    world = dist.get_world_size() if distributed() else 1
    return RunOptimizer(config, mapper, own, sparse=sparse_tables(config, mapper, world))
