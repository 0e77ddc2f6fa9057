"""Where the training loop runs: in this process, or as one Ray Train worker of many.

The loop talks to a Session only: rank, world size, device, the state to resume from, and
``report`` (metrics each epoch, plus a checkpoint directory from rank 0, and from every rank
when the ID tables are sharded: Ray Train merges them into one checkpoint).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any, Protocol

import torch

from raytrec.disk import full, is_full, size_of
from raytrec.interrupts import deferred
from raytrec.layout import PROGRESS_FILE, STATE_FILE
from raytrec.ranks import distributed
from raytrec.train.checkpoint import newest_readable
from raytrec.train.shard_state import Placement


class Session(Protocol):
    rank: int
    world_size: int
    device: torch.device

    def prepare(self, module: torch.nn.Module, ignore: tuple[str, ...] = ()) -> torch.nn.Module:
        ...

    def load_state(self, placement: Placement | None = None,
                   tables: dict[str, int] | None = None) -> dict[str, Any] | None:
        """The newest readable checkpoint's state, sharded tables as ``newest_readable``
        places them."""

    def report(self, metrics: dict[str, Any], checkpoint_dir: Path | None) -> None: ...


def resolve_device(name: str) -> torch.device:
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def append_progress(run_dir: Path, metrics: dict[str, Any]) -> None:
    with open(Path(run_dir) / PROGRESS_FILE, "a") as fh:
        fh.write(json.dumps({"time": time.time(), **metrics}) + "\n")


def load_reported(checkpoint: Any, placement: Placement | None = None,
                  tables: dict[str, int] | None = None) -> dict[str, Any] | None:
    """The state of the last checkpoint Ray reported, or of the newest readable one before it
    when it is damaged (checkpoints on a local or mounted file system)."""
    if checkpoint is None:
        return None
    here = Path(checkpoint.path)
    if checkpoint.filesystem.type_name == "local" and here.is_dir():
        earlier = sorted(p for p in here.parent.glob("checkpoint_*") if p.name <= here.name)
        return newest_readable(earlier, placement, tables)
    with checkpoint.as_directory() as d:
        return newest_readable([Path(d)], placement, tables)


def distribute(module: torch.nn.Module, ignore: tuple[str, ...],
               device: torch.device) -> torch.nn.Module:
    """``module`` on ``device``; with 2+ workers, DistributedDataParallel over the parameters
    not named in ``ignore`` (the row-sparse ID tables, which the optimiser exchanges itself),
    or no wrapper when that leaves none."""
    from torch.nn.parallel import DistributedDataParallel

    module = module.to(device)
    ignored = set(ignore)
    dense = [n for n, p in module.named_parameters() if p.requires_grad and n not in ignored]
    if not (distributed() and dense):
        return module
    if device.type == "cuda":
        # Batch statistics over the global batch, as one worker would have them.
        module = torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)
    # DDP matches a root module's own parameters as ".name" when it builds its buckets and
    # as "name" elsewhere (torch 2.13): give both.
    names = [*ignore, *(f".{name}" for name in ignore if "." not in name)]
    # Non-persistent buffers hold what every worker derives alike from the data (or scratch
    # space): broadcasting them on every step would cost their size for nothing.
    names += [f"{owner}.{name}" if owner else name for owner, module_ in module.named_modules()
              for name in module_._non_persistent_buffers_set]
    DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(module, names)
    return DistributedDataParallel(module, device_ids=[device] if device.type == "cuda" else None)


class Publisher(Protocol):
    """Makes what was written in a run directory visible where the run lives
    (``raytrec.run.store.RunStore``: a run at a URI publishes there)."""

    def publish(self, *names: str) -> None: ...

    def publish_quietly(self, *names: str) -> None: ...


class LocalSession:
    """The loop in this process: checkpoints kept under ``<run_dir>/checkpoints``, and with
    the progress passed to ``publisher`` (none: the run directory is the run's own place)."""

    rank = 0
    world_size = 1

    def __init__(self, run_dir: Path, device: str = "auto", keep: int = 2,
                 publisher: Publisher | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.root = self.run_dir / "checkpoints"
        self.device = resolve_device(device)
        self.keep = keep
        self.publisher = publisher

    def prepare(self, module: torch.nn.Module, ignore: tuple[str, ...] = ()) -> torch.nn.Module:
        return module.to(self.device)

    def _complete(self) -> list[Path]:
        return sorted(p for p in self.root.glob("checkpoint_*") if (p / STATE_FILE).exists())

    def latest(self) -> Path | None:
        """The newest complete checkpoint directory."""
        done = self._complete()
        return done[-1] if done else None

    def load_state(self, placement: Placement | None = None,
                   tables: dict[str, int] | None = None) -> dict[str, Any] | None:
        return newest_readable(self._complete(), placement, tables)

    def report(self, metrics: dict[str, Any], checkpoint_dir: Path | None) -> None:
        # Ctrl-C or SIGTERM stops the run after these writes, not inside them; the checkpoint
        # goes first, so that the progress never names an epoch that no checkpoint holds.
        with deferred():
            if checkpoint_dir is not None:
                self._keep_checkpoint(Path(checkpoint_dir))
            append_progress(self.run_dir, metrics)
        if self.publisher is None:
            return
        if checkpoint_dir is not None:
            self.publisher.publish(self.root.name)
        self.publisher.publish_quietly(PROGRESS_FILE)

    def _keep_checkpoint(self, source: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        existing = [int(p.name.split("_")[-1]) for p in self.root.glob("checkpoint_*")]
        n = max(existing, default=-1) + 1
        target = self.root / f"checkpoint_{n:06d}"
        tmp = self.root / f".tmp_{n:06d}"
        shutil.rmtree(tmp, ignore_errors=True)  # what a killed run left half-copied
        try:
            copy_tree(source, tmp)
        except (OSError, RuntimeError) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if not is_full(exc, self.root, size_of(source)):
                raise
            last = self.latest()
            kept = (f"the run keeps its last complete checkpoint, {last.name}" if last else
                    "no epoch was kept")
            raise full(tmp, size_of(source), f"{kept}; free some space") from None
        tmp.rename(target)  # a crash mid-copy never leaves a checkpoint that looks complete
        for old in self._complete()[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)


def copy_tree(source: Path, target: Path) -> None:
    """``shutil.copytree`` whose failure is the OSError of the file that failed (copytree
    gathers them into one ``shutil.Error`` of strings)."""
    target.mkdir(parents=True)
    for path in sorted(source.rglob("*")):
        dest = target / path.relative_to(source)
        if path.is_dir():
            dest.mkdir(exist_ok=True)
        else:
            shutil.copyfile(path, dest)


class RayTrainSession:
    """One worker of a Ray Train (V2) TorchTrainer; every rank must call ``report``."""

    def __init__(self, threads: int) -> None:
        import ray.train
        import ray.train.torch

        ctx = ray.train.get_context()
        self.rank, self.world_size = ctx.get_world_rank(), ctx.get_world_size()
        self.device = ray.train.torch.get_device()
        torch.set_num_threads(max(1, threads))

    def prepare(self, module: torch.nn.Module, ignore: tuple[str, ...] = ()) -> torch.nn.Module:
        return distribute(module, ignore, self.device)

    def load_state(self, placement: Placement | None = None,
                   tables: dict[str, int] | None = None) -> dict[str, Any] | None:
        import ray.train

        return load_reported(ray.train.get_checkpoint(), placement, tables)

    def report(self, metrics: dict[str, Any], checkpoint_dir: Path | None) -> None:
        import ray.train

        ckpt = ray.train.Checkpoint.from_directory(str(checkpoint_dir)) if checkpoint_dir else None
        ray.train.report(metrics, checkpoint=ckpt)
