"""A sharded run's checkpoint read back by any number of workers: each gets exactly the rows
(and their optimiser state, and their best-model rows) it owns, or whole tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from raytrec.train.checkpoint import load_file
from raytrec.train.shard_state import place, shard_file

ROWS, WIDTH = 11, 3


def _whole() -> dict[str, Any]:
    table = torch.arange(ROWS * WIDTH, dtype=torch.float32).view(ROWS, WIDTH)
    return {"model": {"table": table, "dense": torch.ones(2)},
            "tracker": {"best_state": {"table": -table, "dense": torch.zeros(2)}},
            "optimizer": {"state": {0: {"step": torch.tensor(4.0), "sum": table * 10}},
                          "param_groups": [{"params": [0, 1]}]}}


def _written(tmp_path: Path, world: int) -> dict[str, Any]:
    """``_whole`` as a run on ``world`` sharded workers writes it."""
    whole = _whole()
    for rank in range(world):
        cut = place(whole, None, (rank, world), {"table": 0})
        torch.save({"model": {"table": cut["model"]["table"]},
                    "best": {"table": cut["tracker"]["best_state"]["table"]},
                    "optimizer": {"table": cut["optimizer"]["state"][0]}},
                   shard_file(tmp_path, rank, world))
    main = {**whole, "model": {"dense": whole["model"]["dense"]},
            "tracker": {"best_state": {"dense": whole["tracker"]["best_state"]["dense"]}},
            "optimizer": {**whole["optimizer"], "state": {}},
            "sharding": {"world": world, "tables": {"table": ROWS}, "order": {"table": 0}}}
    return main


def test_every_placement_gets_its_rows(tmp_path: Path) -> None:
    whole = _whole()
    for old in (1, 2, 4):
        folder = tmp_path / str(old)
        folder.mkdir()
        main = _written(folder, old)
        back = place(main, folder, None, load=load_file)  # a reader of the whole model
        assert torch.equal(back["model"]["table"], whole["model"]["table"])
        assert torch.equal(back["optimizer"]["state"][0]["sum"],
                           whole["optimizer"]["state"][0]["sum"])
        assert torch.equal(back["tracker"]["best_state"]["table"],
                           whole["tracker"]["best_state"]["table"])
        for new in (1, 2, 3, 4):
            for rank in range(new):
                got = place(main, folder, (rank, new), {"table": 0}, load_file)
                assert torch.equal(got["model"]["table"], whole["model"]["table"][rank::new])
                assert torch.equal(got["optimizer"]["state"][0]["sum"],
                                   whole["optimizer"]["state"][0]["sum"][rank::new])
                assert float(got["optimizer"]["state"][0]["step"]) == 4.0
                assert torch.equal(got["tracker"]["best_state"]["table"],
                                   -whole["model"]["table"][rank::new])
                assert torch.equal(got["model"]["dense"], torch.ones(2))
                assert "sharding" not in got
