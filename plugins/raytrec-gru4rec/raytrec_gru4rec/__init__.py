"""GRU4Rec for raytrec (Hidasi et al. 2016; Hidasi & Karatzoglou 2018): session datasets,
session-parallel mini-batches, next-item evaluation and the item-kNN baseline."""

from __future__ import annotations

import raytrec
from raytrec.api import Register


@raytrec.hookimpl
def register_datasets(register: Register) -> None:
    from raytrec_gru4rec.datasets import MovieLensSessions, SessionsFile, YoochooseSample
    from raytrec_gru4rec.synthetic import SyntheticSessions

    register("sessions", SessionsFile)
    register("yoochoose-sample", YoochooseSample)
    register("movielens-100k-sessions", MovieLensSessions)
    register("synthetic-sessions", SyntheticSessions)


@raytrec.hookimpl
def register_tasks(register: Register) -> None:
    from raytrec_gru4rec.task import SessionTask

    register("session", SessionTask)


@raytrec.hookimpl
def register_mappers(register: Register) -> None:
    from raytrec_gru4rec.mapper import GRU4RecMapper

    register("gru4rec", GRU4RecMapper)
