"""Messages a user can act on: each names the key, the cause and a fix that exists."""

from __future__ import annotations

from raytrec.run.job import cutoff_problems


def test_a_catalogue_of_one_item_asks_for_other_data_not_an_impossible_k() -> None:
    """Before: "use K < 1"."""
    [problem] = cutoff_problems([10], 1)
    assert problem.key == "eval.ks" and "K <" not in problem.message
    assert "holds 1 item(s), so there is nothing to rank; give data with more items" in \
        problem.message
    [problem] = cutoff_problems([10, 50], 20)
    assert "use K < 20" in problem.message
