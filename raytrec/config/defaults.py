"""Every default of a run in one place; a YAML config overrides any of them."""

from __future__ import annotations

from typing import Any

from raytrec.kinds import BY_SECTION

DEFAULTS: dict[str, Any] = {
    "data": {"name": "movielens-100k"},
    # per-user 60/20/20, users with < 5 interactions train-only (the CML paper's protocol)
    "split": {},
    # CML: unit ball in R^100, squared-l2 scores
    "mapper": {"name": "embedding", "dim": 100, "distance": "l2", "max_norm": 1.0},
    # U = 20 uniform candidates per positive, none of them the user's own training items;
    # the loss keeps the hardest
    "sampler": {"name": "uniform", "num_negatives": 20, "exclude_positives": True},
    "loss": {"name": "cml"},
    "retriever": {"name": "faiss-flat"},
    "train": {},
    "eval": {},
    "scaling": {},
}

# Plugin sections (raytrec.kinds) name a registered component plus its constructor arguments:
# section -> kind, in the order of a config.
PLUGIN_SECTIONS: dict[str, str] = {s: BY_SECTION[s].name for s in DEFAULTS if s in BY_SECTION}
