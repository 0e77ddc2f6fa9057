"""``train.sharding: auto``: rows when the whole model would not fit some machine's workers."""

from __future__ import annotations

import torch

from raytrec.mappers.embedding import EmbeddingMapper
from raytrec.memory import training_bytes
from raytrec.testing.common import tiny_info
from raytrec.train.placement import crowded_machine


def _mapper() -> EmbeddingMapper:
    mapper = EmbeddingMapper(dim=16)
    with torch.device("meta"):
        mapper.setup(tiny_info(num_users=300, num_items=200))
    return mapper


def test_the_machine_whose_workers_could_not_hold_the_whole_model_shards_every_worker() -> None:
    mapper = _mapper()
    whole = training_bytes(mapper, "adagrad")  # 96,000 bytes: tables, gradients, state
    assert whole == 96_000
    two_roomy = [("a", 3 * whole), ("a", 3 * whole), ("b", whole), ("b", None)]
    assert crowded_machine(mapper, "adagrad", two_roomy) == ("b", 2, whole)
    assert crowded_machine(mapper, "adagrad", [("a", 2 * whole)] * 2) is None
    assert crowded_machine(mapper, "adagrad", [("a", None)] * 2) is None  # unknown: as asked
    # one worker per machine, each with room for one copy
    assert crowded_machine(mapper, "adagrad", [("a", whole), ("b", whole)]) is None
