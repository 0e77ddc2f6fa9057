"""Samplers follow ``to(device)``: every tensor they hold, nested samplers and filters too."""

from __future__ import annotations

import pytest
import torch

from raytrec.mappers.embedding import EmbeddingMapper
from raytrec.samplers.hard import HardSampler
from raytrec.samplers.in_batch import InBatchSampler
from raytrec.samplers.mixed import MixedSampler
from raytrec.samplers.popularity import PopularitySampler
from raytrec.samplers.uniform import UniformSampler
from raytrec.testing import tiny_info
from raytrec.testing.devices import stranded_tensors

META = torch.device("meta")
SAMPLERS = {
    "uniform-pool": lambda: UniformSampler(4, exclude_positives=True, pool_size=16),
    "popularity": lambda: PopularitySampler(4, exclude_positives=True),
    "in-batch": lambda: InBatchSampler(exclude_positives=True),
    "mixed": lambda: MixedSampler(8, exclude_positives=True),
    "hard": lambda: HardSampler(8, 2, exclude_positives=True, pool_size=16),
}


def _set_up(make):
    sampler, info = make(), tiny_info()
    sampler.setup(info)
    mapper = EmbeddingMapper(dim=4)
    mapper.setup(info)
    sampler.attach(mapper)
    return sampler, info


@pytest.mark.parametrize("name", SAMPLERS)
def test_to_moves_every_tensor_in_place(name: str) -> None:
    sampler, _ = _set_up(SAMPLERS[name])
    assert stranded_tensors(sampler, META, skip=(torch.nn.Module,))  # on the CPU so far
    assert sampler.to(META) is sampler
    assert stranded_tensors(sampler, META, skip=(torch.nn.Module,)) == []


def test_the_mapper_a_sampler_scores_with_is_left_to_the_loop() -> None:
    sampler, _ = _set_up(SAMPLERS["hard"])
    sampler.to(META)
    assert sampler.mapper.item_emb.device.type == "cpu"


@pytest.mark.parametrize("name", SAMPLERS)
def test_to_its_own_device_draws_the_same(name: str) -> None:
    sampler, info = _set_up(SAMPLERS[name])
    users = torch.arange(32) % info.num_users
    items = torch.from_numpy(info.positives.indices[:32].copy())
    before = sampler.sample(users, items, torch.Generator().manual_seed(3))
    after = sampler.to(torch.device("cpu")).sample(users, items,
                                                   torch.Generator().manual_seed(3))
    assert torch.equal(before.ids, after.ids) and torch.equal(before.log_q, after.log_q)
