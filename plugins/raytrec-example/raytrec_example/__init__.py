"""Example raytrec plugin: registers the loss ``logistic``.

Install with ``pip install -e plugins/raytrec-example``; then ``loss: {name: logistic}`` works
in any config and ``raytrec plugins`` lists it under distribution ``raytrec-example``.
"""

from __future__ import annotations

import raytrec
from raytrec.api import Register
from raytrec_example.logistic import LogisticLoss

__all__ = ["LogisticLoss", "register_losses"]


@raytrec.hookimpl
def register_losses(register: Register) -> None:
    register("logistic", LogisticLoss)
