"""The non-plugin sections of a config; their field names are the YAML keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from raytrec.config.defaults import EPOCHS, PATIENCE
from raytrec.errors import ArgumentError

METRIC_NAMES = ("recall", "ndcg", "mrr", "hr")

SEED_LIMIT = 2**32
MAX_THREADS = 1024  # torch takes a C int; more threads than any worker's CPUs only slow it


@dataclass
class TrainSection:
    """How to optimise.

    Attributes:
        epochs: at most this many passes over the training interactions; a run normally
            ends earlier, on ``patience`` (defaults and their reasons:
            ``raytrec.config.defaults``).
        batch_size: positives per step, summed over all workers (at most the training
            positives: a larger one is one step an epoch over all of them).
        optimizer: ``adagrad`` (CML paper), ``adam`` or ``sgd``.
        lr: learning rate.
        weight_decay: optimizer weight decay (prefer a loss's own regulariser).
        seed: seeds initialisation, batching and sampling; same seed, same run.
        device: ``auto`` picks CUDA when the worker has a GPU.
        patience: stop after this many evaluations without a better validation metric;
            null: train all ``epochs``.
        threads: torch intra-op threads per worker (at most ``MAX_THREADS``); default: the
            CPUs Ray gives the worker.
        sparse: row-sparse ID tables (``Mapper.id_tables``): each step updates, exchanges
            between workers and constrains only the rows it touched, so its cost does not
            grow with the catalogue (see ``raytrec.train.optim`` for what each optimizer
            does on those rows). ``auto``: the ID tables with more rows than
            ``batch_size`` × the number of workers (a smaller table is mostly touched by
            every step, and whole small tables under DDP overlap backward);
            ``true``: every ID table; ``false``: dense updates of whole tables, all-reduced
            by DDP.
        sharding: where the ID tables live with 2+ workers. ``replicated``: every worker
            holds every table and its optimiser state, and receives the rows every other
            worker touched each step. ``rows``: each worker holds 1/W of the rows of every ID
            table (row ``i`` on worker ``i % W``) and their optimiser state; a step fetches
            the rows its batch needs from their workers and sends their gradients back, and
            evaluation indexes each worker's own items and merges the lists: the catalogue
            is bounded by the cluster's memory, not one worker's, at about half the speed
            of ``replicated`` on 2 workers. ``auto``: ``replicated`` while the whole model
            and its optimiser state fit the free memory of each machine's workers, else
            ``rows`` (decided alike by every worker as the run starts, and again when it is
            resumed: checkpoints read either way) (``raytrec.shards``; measurements in
            ``benchmarks/README.md``, "Sharded ID
            tables").
    """

    epochs: int = EPOCHS
    batch_size: int = 4096
    optimizer: Literal["adagrad", "adam", "sgd"] = "adagrad"
    lr: float = 0.05
    weight_decay: float = 0.0
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    patience: int | None = PATIENCE
    threads: int | None = None
    sparse: bool | Literal["auto"] = "auto"
    sharding: Literal["auto", "replicated", "rows"] = "auto"

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ArgumentError(name, f"must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ArgumentError("lr", f"must be > 0, got {self.lr}")
        if not 0 <= self.seed < SEED_LIMIT:
            # Each epoch's generators are seeded from (seed, epoch, rank) as one int64.
            raise ArgumentError("seed",
                                f"must be an integer from 0 to {SEED_LIMIT - 1} (2**32 - 1), "
                                f"got {self.seed}")
        if self.patience is not None and self.patience < 1:
            raise ArgumentError("patience", f"must be >= 1 or null, got {self.patience}")
        if self.threads is not None and not 1 <= self.threads <= MAX_THREADS:
            raise ArgumentError("threads", f"must be from 1 to {MAX_THREADS} (torch threads per "
                                f"worker, at most its CPUs) or null, got {self.threads}")


@dataclass
class EvalSection:
    """Full-ranking evaluation.

    Attributes:
        ks: cut-offs K of every metric (Recall, nDCG, MRR, HitRate @K).
        metric: the validation metric that picks the best epoch, e.g. ``recall@50``.
        chunk_size: users scored at once (at most the users scored); bounds memory
            whatever the number of users.
        every: evaluate every this many epochs (and always after the last).
        max_users: validate on a sample of this many validation users (drawn once, seeded by
            ``train.seed``), to pick the best epoch cheaply on a large data set; null: all.
            Test scores every test user unless ``test_max_users`` is set.
        test_max_users: score test on a sample of this many test users (drawn once, seeded by
            ``train.seed``), the baselines on the same users; null: every test user. For user
            bases whose every user the catalogue cannot be searched for in time.
        ease: after training, ``raytrec train`` also fits the EASE baseline (closed-form
            item-item ridge, λ chosen on validation) and prints it beside the model, so a
            run shows where it stands against the strongest simple baseline. ``auto``: up to
            ``raytrec.evaluation.ease.AUTO_MAX_ITEMS`` items (its cost grows with the cube of
            the catalogue); ``true``: whatever the catalogue; ``false``: never. Skipped, with
            a note, when its dense items × items matrices do not fit in half the free memory.
    """

    ks: list[int] = field(default_factory=lambda: [10, 20, 50, 100])
    metric: str = "recall@50"
    chunk_size: int = 2048
    every: int = 1
    max_users: int | None = None
    test_max_users: int | None = None
    ease: bool | Literal["auto"] = "auto"

    def __post_init__(self) -> None:
        if not self.ks or any(int(k) < 1 for k in self.ks):
            raise ArgumentError("ks",
                                f"must be a non-empty list of positive integers, got {self.ks}")
        self.ks = sorted({int(k) for k in self.ks})
        name, _, k = self.metric.partition("@")
        if name not in METRIC_NAMES or not k.isdigit() or int(k) not in self.ks:
            raise ArgumentError(
                "metric", f"must be <name>@<k> with name in {', '.join(METRIC_NAMES)} and k in "
                f"ks {self.ks}, got {self.metric!r}")
        if self.chunk_size < 1 or self.every < 1:
            raise ArgumentError("chunk_size", "and every must be >= 1")
        for name in ("max_users", "test_max_users"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ArgumentError(name, f"must be >= 1 or null, got {value}")


@dataclass
class ScalingSection:
    """Where training runs.

    Attributes:
        num_workers: Ray Train workers (DDP); 0 runs the loop in this process, without Ray.
        use_gpu: one GPU per worker (NCCL between them).
        cpus_per_worker: CPUs Ray reserves per worker (also torch's thread count).
        max_failures: times Ray Train restarts the workers from the last checkpoint after a
            worker dies (a lost node, a preempted or out-of-memory-killed process) before the
            run fails. An error raytrec raises itself (a diverged loss, a component's bug) is
            never retried: the same checkpoint and seed would repeat it. The default, 3, rides
            out the occasional lost node of a long run; a run that loses more workers than that
            has a cause a restart does not fix (a node type that runs out of memory).
        start_timeout_s: seconds to wait for the workers' resources to come free before the
            run fails (raise it on an autoscaling cluster, where nodes take minutes to start).
    """

    num_workers: int = 1
    use_gpu: bool = False
    cpus_per_worker: float = 1.0
    max_failures: int = 3
    start_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        if self.num_workers < 0:
            raise ArgumentError("num_workers", f"must be >= 0, got {self.num_workers}")
        if self.max_failures < 0:
            raise ArgumentError("max_failures", f"must be >= 0, got {self.max_failures}")
        if self.cpus_per_worker <= 0:
            raise ArgumentError("cpus_per_worker", f"must be > 0, got {self.cpus_per_worker}")
        if self.start_timeout_s <= 0:
            raise ArgumentError("start_timeout_s", f"must be > 0, got {self.start_timeout_s}")


@dataclass
class PrepareSection:
    """How the data is prepared: ids mapped, repeated pairs merged, the split drawn and the
    files written (``raytrec.data.prepare``); the same files from either engine.

    Attributes:
        engine: ``pandas`` on the driver, the whole table in its memory; ``ray`` in Ray Data
            stages on the cluster, the driver holding only counts (the ``csv`` and ``parquet``
            datasets, the ``user-item`` task); ``auto``: ``ray`` when pandas would take more
            than half the driver's free memory and the data can go through Ray Data
            (``raytrec.data.engine``).
    """

    engine: Literal["auto", "pandas", "ray"] = "auto"


@dataclass
class TrackingSection:
    """Where a run's parameters and metrics are tracked besides its run directory
    (``raytrec.tracking``): the resolved config as parameters, every epoch's training and
    validation metrics with the epoch as step, the test metrics beside the baselines, the
    plugin distributions and the run directory; a Tune trial is a tracked run of its own,
    nested under its search. A resumed run continues its tracked run.

    Attributes:
        backend: ``none``; ``mlflow`` (needs ``raytrec[mlflow]``); ``tensorboard`` (event
            files any TensorBoard reads; ``raytrec[tensorboard]`` has the viewer).
        uri: MLflow's tracking URI (``http://host:5000``, ``file:/path/mlruns``,
            ``databricks``); default: ``MLFLOW_TRACKING_URI``, else MLflow's own default.
            Credentials come from MLflow's environment variables, never from the config.
        experiment: the MLflow experiment; default: the config file's name without its
            suffix.
        directory: TensorBoard's log directory; default: ``tensorboard`` in the run
            directory (a search's trials in folders of their own under it).

    A tracking server that is down or refuses is one warning as the run starts; the run
    goes on untracked.
    """

    backend: Literal["none", "mlflow", "tensorboard"] = "none"
    uri: str | None = None
    experiment: str | None = None
    directory: str | None = None

    def __post_init__(self) -> None:
        for name in ("uri", "experiment", "directory"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ArgumentError(name, f"must be a non-empty string, got {value!r}")
        if self.backend != "mlflow":
            for name in ("uri", "experiment"):
                if getattr(self, name) is not None:
                    raise ArgumentError(name, f"is MLflow's; backend is {self.backend}: set "
                                        "backend: mlflow, or drop it")
        if self.backend != "tensorboard" and self.directory is not None:
            raise ArgumentError("directory", f"is TensorBoard's; backend is {self.backend}: "
                                "set backend: tensorboard, or drop it")


@dataclass
class SplitConfig:
    """How to split interactions that do not come with a split of their own.

    - ``ratio``: per user, a seeded random ``ratios`` share to train/valid/test (CML paper:
      60/20/20); users with fewer than ``min_user_interactions`` stay in train.
    - ``leave-last-out``: per user, the latest interaction to test, the one before to valid.
    - ``temporal``: one global cut by timestamp at the ``ratios`` quantiles.

    ``cold_users`` holds a seeded share of users out entirely: all their interactions go to
    test, so they are scored with no training history (cold start). ``cold_items`` does the
    same for items: a seeded share of the catalogue gets no training or validation rows, so a
    model can only place them from their features, and test reports them apart. Either hold-out
    leaves the other rows' split as it is without it.

    Every draw (and the tie-break of equal timestamps) is a keyed hash of ``seed`` and the
    row's user and item ids (``raytrec.data.keys``): the split does not depend on the order
    of the rows.
    """

    method: Literal["ratio", "leave-last-out", "temporal"] = "ratio"
    ratios: list[float] | tuple[float, float, float] = (0.6, 0.2, 0.2)
    min_user_interactions: int = 5
    seed: int = 0
    cold_users: float = 0.0
    cold_items: float = 0.0

    def __post_init__(self) -> None:
        r = [float(x) for x in self.ratios]
        if len(r) != 3 or any(x < 0 for x in r) or not np.isclose(sum(r), 1.0):
            raise ArgumentError(
                "ratios", f"must be three non-negative numbers summing to 1 (train, valid, test), "
                f"got {list(self.ratios)}")
        for name in ("cold_users", "cold_items"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ArgumentError(name, f"must be in [0, 1), got {getattr(self, name)}")
        if self.min_user_interactions < 1:
            raise ArgumentError("min_user_interactions",
                                f"must be >= 1, got {self.min_user_interactions}")
        self.ratios = tuple(r)
