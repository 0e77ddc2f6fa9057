"""Rich tables for metrics and plugins."""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.table import Table

from raytrec.plugins import Registry


def metrics_table(title: str, columns: dict[str, dict[str, float]], ks: list[int]) -> Table:
    """Rows: metric@K; one column per model (e.g. the trained model and popularity)."""
    table = Table(title=title)
    table.add_column("metric", min_width=len(f"recall@{max(ks)}"), no_wrap=True)
    for name in columns:
        table.add_column(name, justify="right")
    for metric in ("recall", "ndcg", "mrr", "hr"):
        for k in ks:
            key = f"{metric}@{k}"
            if not any(key in col for col in columns.values()):
                continue  # a metric the task does not measure (next-item: no nDCG)
            # A column without the key: a cut-off beyond its group's size, e.g. 50 of 30 cold
            # items (ranking them all says nothing more).
            table.add_row(key, *(f"{col[key]:.4f}" if key in col else "–"
                                 for col in columns.values()))
    first = next(iter(columns.values()), {})
    for count in ("users", "events"):  # what the metrics are averaged over
        if count in first:
            table.add_row(count, *(f"{int(col[count])}" if count in col else ""
                                   for col in columns.values()))
    return table


def describe_retriever(section: dict[str, Any]) -> str:
    """``faiss-hnsw (ef_search=128, m=32)``: the index and its options (those not left
    unset)."""
    options = ", ".join(f"{k}={v}" for k, v in sorted(section.items())
                        if k != "name" and v is not None)
    return f"{section['name']} ({options})" if options else section["name"]


def index_table(index: dict[str, dict[str, float]]) -> Table:
    """What each index cost on the test users."""
    table = Table(title="index on the test users")
    for col in ("index", "build s", "queries/s", "rows searched wider", "rows searched exactly"):
        table.add_column(col, justify="left" if col == "index" else "right")
    for name, row in index.items():
        table.add_row(name, f"{row['build_seconds']:.2f}", f"{row['queries_per_s']:,.0f}",
                      str(row["widened"]), str(row["exact"]))
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


def recommendations_table(title: str, frame: pd.DataFrame) -> Table:
    """One user's recommendations: rank, item, score (and title)."""
    table = Table(title=title)
    for col in ("rank", "item", "score", *(["title"] if "title" in frame else [])):
        table.add_column(col, justify="right" if col in ("rank", "score") else "left")
    for row in frame.itertuples(index=False):
        cells = [str(row.rank), str(row.item), f"{row.score:.4f}"]
        if "title" in frame:
            cells.append(str(row.title))
        table.add_row(*cells)
    return table
