"""ID tables drawn for a worker that keeps only its rows (``train.sharding: rows``): the
values of a whole table, without holding it."""

from __future__ import annotations

import pytest
import torch

from raytrec.mappers import ItemModel
from raytrec.mappers.embedding import EmbeddingMapper
from raytrec.mappers.two_tower import TwoTowerMapper
from raytrec.shards import draw, draw_rows
from raytrec.testing.common import tiny_info


@pytest.mark.parametrize("world", [2, 3, 4])
def test_each_workers_rows_are_those_of_the_whole_draw(world: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(draw, "BLOCK", 7)  # blocks that do not divide by the workers
    torch.manual_seed(3)
    whole = draw_rows(45, 4, 0.5)
    after = torch.rand(3)
    for rank in range(world):
        torch.manual_seed(3)
        mine = draw_rows(45, 4, 0.5, rank, world)
        torch.testing.assert_close(mine.data, whole.data[rank::world], rtol=0, atol=0)
        assert mine.num_rows == 45  # type: ignore[attr-defined]
        torch.testing.assert_close(torch.rand(3), after)  # the generator where it was
    assert whole.std().item() == pytest.approx(0.5, rel=0.2)


def test_a_table_within_one_block_is_one_draw_from_the_generator() -> None:
    torch.manual_seed(5)
    table = draw_rows(30, 4, 0.1)
    torch.manual_seed(5)
    torch.testing.assert_close(table.data, torch.randn(30, 4) * 0.1, rtol=0, atol=0)


def _placed(mapper: ItemModel, rank: int | None, world: int = 1) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    if rank is not None:
        mapper.place(rank, world)
    mapper.setup(tiny_info(num_users=9, num_items=31))
    return {name: p.detach().clone() for name, p in mapper.named_parameters()}


@pytest.mark.parametrize("make", [
    lambda: EmbeddingMapper(dim=4, distance="l2", max_norm=1.0),
    lambda: TwoTowerMapper(dim=4, id_dim=3, hidden=[5], item_features={"multi_hot": ["genres"]}),
], ids=["embedding", "two-tower"])
def test_a_placed_mapper_draws_its_rows_and_shards_them_as_they_are(make) -> None:
    whole = _placed(make(), None)
    for rank in range(2):
        mapper = make()
        params = _placed(mapper, rank, 2)
        for name, value in whole.items():  # dense parameters: the same draws, in order
            expected = value[rank::2] if name in mapper.id_tables else value
            torch.testing.assert_close(params[name], expected, rtol=0, atol=0)
        shards = mapper.shard_tables(mapper.id_tables, rank, 2)
        for name, shard in shards.items():
            assert shard.num_rows == len(whole[name])
            torch.testing.assert_close(shard.local.detach(), whole[name][rank::2])
