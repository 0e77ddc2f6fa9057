"""GRU4Rec for raytrec (Hidasi et al. 2016; Hidasi & Karatzoglou 2018): session datasets,
session-parallel mini-batches, next-item evaluation and the item-kNN baseline."""

from __future__ import annotations

import raytrec
from raytrec.hookspecs import Register


@raytrec.hookimpl
def register_datasets(register: Register) -> None:
    from raytrec_gru4rec.datasets import MovieLensSessions, SessionsFile, YoochooseSample

    register("sessions", SessionsFile)
    register("yoochoose-sample", YoochooseSample)
    register("movielens-100k-sessions", MovieLensSessions)
