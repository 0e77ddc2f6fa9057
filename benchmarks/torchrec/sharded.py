"""Shared setup of the TorchRec benchmarks in this folder (CPU, gloo, 2 processes).

Not run on its own: ``q1_optimizers.py``, ``q2q3_exactness.py`` and ``q7_timing.py`` import it.
One table ``t`` in an ``EmbeddingCollection`` (or ``EmbeddingBagCollection``) built on
``meta``, sharded ``row_wise`` with the ``fused`` kernel by ``EmbeddingShardingPlanner``
(``collective_plan``) and wrapped in ``DistributedModelParallel`` on the CPU; the fused
optimizer comes from the sharder's ``fused_params`` or from ``apply_optimizer_in_backward``.
"""

from __future__ import annotations

import os
import socket
import traceback
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

warnings.filterwarnings("ignore")


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for the gloo rendezvous."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def init_pg(rank: int, world: int, port: int) -> None:
    """Sets the torchrun-style environment variables and joins the gloo process group."""
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    os.environ["RANK"] = str(rank)
    os.environ["WORLD_SIZE"] = str(world)
    os.environ["LOCAL_RANK"] = str(rank)
    os.environ["LOCAL_WORLD_SIZE"] = str(world)
    dist.init_process_group("gloo", rank=rank, world_size=world)


def build_sharded_ec(optimizer: Any, lr: float, num_emb: int = 1000, dim: int = 16,
                     features: Iterable[str] = ("f",), eps: float | None = None,
                     use_apply_in_backward: bool = False, kind: str = "ec",
                     extra_fused: Mapping[str, Any] | None = None) -> tuple[Any, Any]:
    """Row-wise sharded table ``t`` with a fused optimizer, wrapped in DMP: ``(model, plan)``.

    ``optimizer`` is an ``EmbOptimType`` name passed in ``fused_params``, or, with
    ``use_apply_in_backward``, an optimizer class for ``apply_optimizer_in_backward``.
    ``kind`` is ``"ec"`` (EmbeddingCollection) or ``"ebc"`` (EmbeddingBagCollection).
    """
    from fbgemm_gpu.split_embedding_configs import EmbOptimType
    from torchrec.distributed.embedding import EmbeddingCollectionSharder
    from torchrec.distributed.embeddingbag import EmbeddingBagCollectionSharder
    from torchrec.distributed.model_parallel import DistributedModelParallel
    from torchrec.distributed.planner import EmbeddingShardingPlanner, Topology
    from torchrec.distributed.planner.types import ParameterConstraints
    from torchrec.modules.embedding_configs import EmbeddingBagConfig, EmbeddingConfig
    from torchrec.modules.embedding_modules import EmbeddingBagCollection, EmbeddingCollection

    world = dist.get_world_size()
    if kind == "ec":
        cfg = EmbeddingConfig(name="t", embedding_dim=dim, num_embeddings=num_emb,
                              feature_names=list(features))
        module = EmbeddingCollection(tables=[cfg], device=torch.device("meta"))
    else:
        cfg = EmbeddingBagConfig(name="t", embedding_dim=dim, num_embeddings=num_emb,
                                 feature_names=list(features))
        module = EmbeddingBagCollection(tables=[cfg], device=torch.device("meta"))

    fused = None
    if not use_apply_in_backward:
        fused = {"optimizer": getattr(EmbOptimType, optimizer), "learning_rate": lr}
        if eps is not None:
            fused["eps"] = eps
        if extra_fused:
            fused.update(extra_fused)
    else:
        from torchrec.optim.apply_optimizer_in_backward import apply_optimizer_in_backward
        kw = {"lr": lr}
        if eps is not None:
            kw["eps"] = eps
        apply_optimizer_in_backward(optimizer, module.parameters(), kw)

    sharder_cls = EmbeddingCollectionSharder if kind == "ec" else EmbeddingBagCollectionSharder
    sharder = sharder_cls(fused_params=fused)
    planner = EmbeddingShardingPlanner(
        topology=Topology(world_size=world, compute_device="cpu"),
        constraints={"t": ParameterConstraints(sharding_types=["row_wise"],
                                               compute_kernels=["fused"])},
    )
    plan = planner.collective_plan(module, [sharder], dist.GroupMember.WORLD)
    model = DistributedModelParallel(module=module, device=torch.device("cpu"),
                                     plan=plan, sharders=[sharder])
    return model, plan


def local_shard(model: Any) -> tuple[torch.Tensor, int, str]:
    """This rank's shard of table ``t``: ``(tensor, row_offset, state_dict_key)``."""
    sd = model.state_dict()
    key = next(k for k in sd if k.endswith("t.weight"))
    shard = sd[key].local_shards()[0]
    return shard.tensor, shard.metadata.shard_offsets[0], key


def gather_full(model: Any, num_emb: int, dim: int) -> torch.Tensor:
    """The whole table ``t`` on every rank (each rank's shard summed in with ``all_reduce``)."""
    t, off, _ = local_shard(model)
    full = torch.zeros(num_emb, dim)
    full[off:off + t.shape[0]] = t.detach()
    dist.all_reduce(full)
    return full


def kjt(feature_ids: Mapping[str, torch.Tensor]) -> Any:
    """A ``KeyedJaggedTensor`` from feature name -> 1-D LongTensor of ids, one id per example."""
    from torchrec.sparse.jagged_tensor import KeyedJaggedTensor
    keys = list(feature_ids)
    vals = torch.cat([feature_ids[k] for k in keys])
    lengths = torch.cat([torch.ones(len(feature_ids[k]), dtype=torch.int32) for k in keys])
    return KeyedJaggedTensor.from_lengths_sync(keys=keys, values=vals, lengths=lengths)


def run(fn: Callable[..., None], world: int = 2, *args: Any) -> None:
    """Runs ``fn(rank, world, *args)`` in ``world`` spawned processes joined over gloo."""
    port = free_port()
    mp.spawn(_wrap, args=(world, port, fn, args), nprocs=world, join=True)


def _wrap(rank: int, world: int, port: int, fn: Callable[..., None],
          args: tuple[Any, ...]) -> None:
    """One spawned process: joins the group, runs ``fn``, prints its traceback if it fails."""
    init_pg(rank, world, port)
    try:
        fn(rank, world, *args)
    except Exception:
        print(f"[rank {rank}] FAILED:\n{traceback.format_exc()}", flush=True)
        raise
    finally:
        dist.destroy_process_group()
