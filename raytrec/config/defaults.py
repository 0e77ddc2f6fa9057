"""Every default of a run in one place; a YAML config overrides any of them."""

from __future__ import annotations

from typing import Any

# Plugin sections name a registered component plus its constructor arguments.
PLUGIN_SECTIONS: dict[str, str] = {
    "data": "dataset",
    "mapper": "mapper",
    "sampler": "sampler",
    "loss": "loss",
    "retriever": "retriever",
}

DEFAULTS: dict[str, Any] = {
    "data": {"name": "movielens-100k"},
    # per-user 60/20/20, users with < 5 interactions train-only (the CML paper's protocol)
    "split": {},
    # CML: unit ball in R^100, squared-l2 scores
    "mapper": {"name": "embedding", "dim": 100, "metric": "l2", "max_norm": 1.0},
    # U = 20 uniform candidates per positive, none of them the user's own training items;
    # the loss keeps the hardest
    "sampler": {"name": "uniform", "num_negatives": 20, "exclude_positives": True},
    "loss": {"name": "cml"},
    "retriever": {"name": "faiss-flat"},
    "train": {},
    "eval": {},
    "scaling": {},
}
