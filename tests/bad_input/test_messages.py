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


def test_a_seed_out_of_range_is_named_before_anything_is_created(tmp_path, capsys) -> None:
    """Before: 2**70 failed in the first epoch ("please report it"), after the run directory
    was made; -1 was taken."""
    from tests.bad_input.conftest import refused
    from tests.conftest import write_config

    for seed in (2**70, -1):
        err = refused(capsys, tmp_path, write_config(tmp_path / "c.yaml", train={"seed": seed}))
        assert f"train.seed: must be an integer from 0 to 4294967295 (2**32 - 1), got {seed}" \
            in err
