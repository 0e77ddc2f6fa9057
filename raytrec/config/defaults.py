"""Every default of a run in one place; a YAML config overrides any of them."""

from __future__ import annotations

from typing import Any

from raytrec.kinds import BY_SECTION

# How long a run trains. It ends on validation convergence, not on an epoch count fitted to
# one data set: the best validation epoch of the default CML varies several-fold across data
# sets of different density, and a fixed count cuts some of them short.
# PATIENCE: evaluations without a better validation metric before the run stops; 20 keeps
# the best epoch on every curve measured, and an epoch of data that small is cheap.
# EPOCHS: only a ceiling that a converging run does not reach.
# The figures behind these defaults and the sampler's and the loss's below: benchmarks/README.md,
# "Data raytrec was not tuned on".
EPOCHS = 500
PATIENCE = 20

DEFAULTS: dict[str, Any] = {
    # what a run trains on and how it is scored (raytrec.tasks)
    "task": {"name": "user-item"},
    "data": {"name": "movielens-100k"},
    # per-user 60/20/20, users with < 5 interactions train-only (the CML paper's protocol)
    "split": {},
    # auto: on the driver in pandas, or on the cluster in Ray Data where pandas would not fit
    # the driver (the same files either way)
    "prepare": {},
    # CML: unit ball in R^100, squared-l2 scores
    "mapper": {"name": "embedding", "dim": 100, "distance": "l2", "max_norm": 1.0},
    # U = 3 uniform candidates per positive, none of them the user's own training items; the
    # loss keeps the hardest. U = 20, the paper's, is about level on synthetic sets and well
    # behind on MovieLens, dense and sparse alike: the hardest of 20 uniform candidates is
    # most often a popular item, which on such data is the best guess for anyone.
    "sampler": {"name": "uniform", "num_negatives": 3, "exclude_positives": True},
    # margin 1.9 (the CML reference code's; the paper's 0.5 is its class default): on the unit
    # ball two random vectors are about 2 apart in squared distance, so the hinge stays active
    # until a positive is far nearer than a random item. With 0.5 it goes quiet once positives
    # are merely nearer, and training stalls where users have few positives (popularity's
    # level on sparse sets); 1.0 is best on dense MovieLens-100K and behind on sparse sets.
    "loss": {"name": "cml", "margin": 1.9},
    "retriever": {"name": "faiss-flat"},
    "train": {"epochs": EPOCHS, "patience": PATIENCE},
    "eval": {},
    "scaling": {},
    # none: the run directory only; mlflow or tensorboard as well (raytrec.tracking)
    "tracking": {},
}

# Plugin sections (raytrec.kinds) name a registered component plus its constructor arguments:
# section -> kind, in the order of a config.
PLUGIN_SECTIONS: dict[str, str] = {s: BY_SECTION[s].name for s in DEFAULTS if s in BY_SECTION}
