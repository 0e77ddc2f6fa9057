"""Argument errors: keyed by the argument a component names, whatever its message says."""

from __future__ import annotations

import pickle

from raytrec.config.bind import bind
from raytrec.errors import ArgumentError, Problem, argument_problem


class Weighted:
    def __init__(self, weight: float = 1.0, scale: float = 1.0) -> None:
        if weight <= 0:
            raise ArgumentError("weight", "is the negatives' share of the loss; give a "
                                          f"number > 0, got {weight}")
        if scale <= 0:
            raise ValueError(f"scale must be > 0, got {scale}")  # a plugin's plain ValueError
        if scale > 10:
            raise TypeError("scale is too large for this loss")


def test_an_argument_error_is_keyed_by_its_argument() -> None:
    obj, problems = bind("loss", Weighted, {"weight": -1.0})
    assert obj is None and problems == [Problem(
        "loss.weight", "is the negatives' share of the loss; give a number > 0, got -1.0")]


def test_a_plain_value_error_is_reported_under_the_section_as_it_stands() -> None:
    _, problems = bind("loss", Weighted, {"scale": 0.0})
    assert [str(p) for p in problems] == ["loss: scale must be > 0, got 0.0"]
    _, problems = bind("loss", Weighted, {"scale": 11.0})
    assert [str(p) for p in problems] == ["loss: scale is too large for this loss"]


def test_a_setup_error_keeps_its_message_and_gets_the_data_note() -> None:
    exc = ArgumentError("nlist", "nlist=300 is larger than the catalogue (200 items)")
    assert argument_problem("retriever", exc, " (data: 200 items)") == Problem(
        "retriever.nlist", "nlist=300 is larger than the catalogue (200 items) (data: 200 items)")
    assert argument_problem("sampler", ValueError("no items"), "!") == Problem("sampler",
                                                                               "no items!")


def test_read_on_its_own_an_argument_error_names_its_argument() -> None:
    assert str(ArgumentError("margin", "must be >= 0, got -1")) == "margin must be >= 0, got -1"
    assert str(ArgumentError("nlist", "nlist=3 is larger")) == "nlist=3 is larger"
    assert str(ArgumentError("dim", "dimension too small")) == "dim dimension too small"
    copy = pickle.loads(pickle.dumps(ArgumentError("margin", "must be >= 0")))
    assert (copy.arg, copy.message, isinstance(copy, ValueError)) == ("margin", "must be >= 0",
                                                                      True)


def test_raytrec_s_own_components_key_their_arguments() -> None:
    from raytrec.losses.cml import CMLLoss
    from raytrec.samplers.hard import HardSampler

    _, problems = bind("loss", CMLLoss, {"negative": "softest"})
    assert [p.key for p in problems] == ["loss.negative"]
    assert problems[0].message.startswith("must be one of hardest, semi-hard")
    _, problems = bind("sampler", HardSampler, {"num_negatives": 5, "num_candidates": 2})
    assert [p.key for p in problems] == ["sampler.num_candidates"]
