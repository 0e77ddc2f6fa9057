"""Rich tables for metrics and plugins."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from raytrec.plugins import Registry


def metrics_table(title: str, columns: dict[str, dict[str, float]], ks: list[int]) -> Table:
    """Rows: metric@K; one column per model (e.g. the trained model and popularity)."""
    table = Table(title=title)
    table.add_column("metric")
    for name in columns:
        table.add_column(name, justify="right")
    for metric in ("recall", "ndcg", "mrr", "hr"):
        for k in ks:
            key = f"{metric}@{k}"
            table.add_row(key, *(f"{col.get(key, float('nan')):.4f}" for col in columns.values()))
    first = next(iter(columns.values()), {})
    if "users" in first:
        table.add_row("users", *(f"{int(col.get('users', 0))}" for col in columns.values()))
    return table


def plugins_rows(registry: Registry) -> list[dict[str, Any]]:
    return [{"kind": e.kind, "name": e.name, "class": f"{e.cls.__module__}.{e.cls.__qualname__}",
             "distribution": e.distribution, "version": e.version} for e in registry.entries()]


def plugins_table(registry: Registry) -> Table:
    table = Table(title="raytrec components")
    for col in ("kind", "name", "distribution", "version", "class"):
        table.add_column(col)
    for row in plugins_rows(registry):
        table.add_row(row["kind"], row["name"], row["distribution"], row["version"], row["class"])
    return table
