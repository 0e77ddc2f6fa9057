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


def test_an_alias_bomb_and_deep_nesting_are_refused_at_once(tmp_path, capsys) -> None:
    """Billion laughs under a key raytrec walks, and a document deeper than Python's stack
    (before: a RecursionError traceback)."""
    from tests.bad_input.conftest import refused
    from tests.conftest import write_config

    laughs = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    laughs += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    cfg = write_config(tmp_path / "c.yaml")
    cfg.write_text(cfg.read_text() + "search:\n" + "".join(f"  {line}\n" for line in laughs))
    err = refused(capsys, tmp_path, cfg)
    assert "its aliases (*name) expand it to 4.9e+08 values, more than the 1,000,000" in err
    cfg = write_config(tmp_path / "c.yaml")
    cfg.write_text(cfg.read_text() + "x: " + "[" * 20000 + "]" * 20000 + "\n")
    err = refused(capsys, tmp_path, cfg)
    assert "it is nested deeper than a config can be; flatten it" in err
