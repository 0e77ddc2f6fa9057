"""What a run asks of the Ray cluster, checked against what the cluster has before Ray Train
waits for it (Ray would wait for resources that never come)."""

from __future__ import annotations

import math

from raytrec.config.sections import ScalingSection
from raytrec.errors import ConfigError, Problem


def cluster_nodes() -> tuple[list[dict[str, float]], dict[str, float] | None]:
    """The resources of every live node, and the most an autoscaling cluster can grow to
    (None for a fixed cluster)."""
    import ray
    from ray._private.state import state

    nodes = [dict(n["Resources"]) for n in ray.nodes() if n.get("Alive")]
    try:
        limit = state.get_max_resources_from_cluster_config()
    except Exception:  # an older or unusual cluster: judge by the live nodes
        limit = None
    return nodes, limit


def resource_problems(scaling: ScalingSection, nodes: list[dict[str, float]],
                      limit: dict[str, float] | None, extra_cpus: float = 0.0,
                      extra: str = "") -> list[Problem]:
    """Why ``scaling``'s workers (plus ``extra_cpus`` for a Tune trial, described by ``extra``)
    can never be placed on the cluster, keyed by the config entry to change."""
    workers, cpus = scaling.num_workers, float(scaling.cpus_per_worker)
    gpus = 1.0 if scaling.use_gpu else 0.0
    need = workers * cpus + extra_cpus
    asked = f"{workers} workers × {cpus:g} CPU (scaling.cpus_per_worker){extra}"
    if limit is not None:  # an autoscaler can add nodes up to its configured maximum
        have_cpu, have_gpu = limit.get("CPU", 0), limit.get("GPU", 0)
        where = "the cluster can grow to at most"
    else:
        have_cpu = sum(n.get("CPU", 0) for n in nodes)
        have_gpu = sum(n.get("GPU", 0) for n in nodes)
        where = "the cluster has"
    if need > have_cpu + 1e-9:
        return [Problem("scaling.num_workers", f"{asked} need {need:g} CPUs, but {where} "
                                               f"{have_cpu:g}; lower scaling.num_workers or "
                                               "scaling.cpus_per_worker")]
    if gpus and workers > have_gpu:
        return [Problem("scaling.use_gpu", f"{workers} workers need one GPU each, but {where} "
                                           f"{have_gpu:g}; lower scaling.num_workers or set "
                                           "scaling.use_gpu: false")]
    if limit is None and workers:
        # Each worker must fit on one node.
        fit = sum(_fits(n, cpus, gpus) for n in nodes)
        if fit < workers:
            largest = max((n.get("CPU", 0) for n in nodes), default=0)
            return [Problem("scaling.cpus_per_worker", f"only {fit} of the {workers} workers "
                                                       f"fit on the cluster's nodes (largest: "
                                                       f"{largest:g} CPUs); lower "
                                                       "scaling.cpus_per_worker")]
    return []


def _fits(node: dict[str, float], cpus: float, gpus: float) -> int:
    by_cpu = math.floor(node.get("CPU", 0) / cpus + 1e-9) if cpus else 1 << 30
    by_gpu = math.floor(node.get("GPU", 0) / gpus + 1e-9) if gpus else 1 << 30
    return min(by_cpu, by_gpu)


def check_resources(scaling: ScalingSection, source: str, extra_cpus: float = 0.0,
                    extra: str = "") -> None:
    """ConfigError when the connected cluster can never hold the workers."""
    nodes, limit = cluster_nodes()
    problems = resource_problems(scaling, nodes, limit, extra_cpus, extra)
    if problems:
        raise ConfigError(problems, source)
