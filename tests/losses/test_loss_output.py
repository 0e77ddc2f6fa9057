"""A loss's parts are logged beside the total and the mapper's penalty, under names of their
own: a part that takes one of those names is refused, not merged over it."""

from __future__ import annotations

import pytest
import torch

from raytrec.losses import LossOutput


def test_the_penalty_is_added_and_logged_beside_the_parts() -> None:
    out = LossOutput(torch.tensor(2.0), {"hinge": torch.tensor(1.5)})
    assert out.with_penalty(None) is out
    both = out.with_penalty(torch.tensor(0.25))
    assert float(both.loss) == 2.25 and float(out.loss) == 2.0
    assert {k: float(v) for k, v in both.logged().items()} == {
        "loss": 2.25, "hinge": 1.5, "mapper_penalty": 0.25}


@pytest.mark.parametrize("name", ["loss", "mapper_penalty"])
def test_a_part_named_like_the_total_or_the_penalty_is_refused(name: str) -> None:
    out = LossOutput(torch.tensor(2.0), {name: torch.tensor(1.0)})
    with pytest.raises(ValueError, match=f"a part named '{name}'"):
        out.with_penalty(torch.tensor(0.5)).logged()
