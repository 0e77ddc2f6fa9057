"""How much memory a model needs per worker, told before any table is allocated."""

from __future__ import annotations

from pathlib import Path

import torch

# Optimizer state per parameter value, in parameter-sized tensors.
OPTIMIZER_STATES = {"adagrad": 1, "adam": 2, "sgd": 0}


def parameter_bytes(module: torch.nn.Module) -> int:
    """Parameters and persistent buffers: a non-persistent buffer (data a mapper derives in
    ``setup``, scratch space) is not model state."""
    tensors = [*module.parameters()]
    for owner in module.modules():
        tensors += [b for name, b in owner.named_buffers(recurse=False)
                    if name not in owner._non_persistent_buffers_set]
    return sum(t.numel() * t.element_size() for t in tensors)


def training_bytes(module: torch.nn.Module, optimizer: str, shards: int = 1) -> int:
    """Weights, their gradients and the optimizer's state: what each worker holds at least.

    With the ID tables (``module.id_tables``) sharded over ``shards`` workers, each holds
    1/``shards`` of their rows and state (their gradients are row-sparse); a table its
    mapper did not make with ``Mapper.new_id_table`` is held whole for a moment at set-up,
    before the worker keeps its rows."""
    states = OPTIMIZER_STATES.get(optimizer, 2)
    whole = parameter_bytes(module)
    if shards <= 1:
        return whole * (2 + states)
    tables = id_table_bytes(module)
    made_whole = id_table_bytes(module, drawn=False)
    held = max(made_whole + tables // shards, tables * (1 + states) // shards)
    return (whole - tables) * (2 + states) + held


def needs_rows(module: torch.nn.Module, optimizer: str, workers: int, free: int) -> bool:
    """Whether ``workers`` workers on a machine with ``free`` bytes need their ID tables
    sharded by rows (``train.sharding: auto``): whole, the model would not fit them."""
    return (workers > 1 and id_table_bytes(module) > 0
            and training_bytes(module, optimizer) * workers > free)


def id_table_bytes(module: torch.nn.Module, drawn: bool | None = None) -> int:
    """Bytes of the module's ID tables (``Mapper.id_tables``); with ``drawn``, of those its
    mapper did (``True``) or did not (``False``) make with ``Mapper.new_id_table``."""
    names = set(getattr(module, "id_tables", ()))
    return sum(p.numel() * p.element_size() for name, p in module.named_parameters()
               if name in names and (drawn is None or hasattr(p, "num_rows") == drawn))


def available_memory() -> int | None:
    """Bytes this machine can still give a process (Linux ``MemAvailable``), if known."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def gigabytes(n: int) -> str:
    return f"{n / 1024**3:.1f} GiB"
