"""Work on the blocks of a Ray Dataset in their order: what a stage needs when a row's
result depends on its place (an index after a sort) or when one writer takes the rows in
order. Each block goes to a task of its own, or to one task in turn; the driver holds only
the references and each block's row count."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import ray
import ray.data


def ordered_refs(ds: ray.data.Dataset) -> tuple[list[ray.ObjectRef], np.ndarray]:
    """The blocks of ``ds`` (executed) in order, and the row offset of each."""
    refs, sizes = [], []
    for bundle in ds.iter_internal_ref_bundles():
        for entry in bundle.blocks:
            refs.append(entry.ref)
            sizes.append(entry.metadata.num_rows)
    return refs, np.r_[0, np.cumsum(sizes, dtype=np.int64)][:-1]


@ray.remote
def _apply(block: object, fn: Callable[..., object], *args: object) -> object:
    from ray.data.block import BlockAccessor

    return fn(BlockAccessor.for_block(block).to_pandas(), *args)


def per_block(ds: ray.data.Dataset, fn: Callable[[pd.DataFrame], object]) -> list[object]:
    """``fn(block)`` of every block of ``ds``, in order: something small of each."""
    refs, _ = ordered_refs(ds)
    return ray.get([_apply.remote(ref, fn) for ref in refs])


def with_args(ds: ray.data.Dataset, fn: Callable[..., pd.DataFrame],
              args: list[tuple[object, ...]]) -> ray.data.Dataset:
    """``fn(block, *args[b])`` of every block ``b`` of ``ds`` in order, as a dataset."""
    refs, _ = ordered_refs(ds)
    if not refs:
        return ds
    return ray.data.from_pandas_refs([_apply.remote(ref, fn, *arg)
                                      for ref, arg in zip(refs, args, strict=True)])


def with_offsets(ds: ray.data.Dataset,
                 fn: Callable[[pd.DataFrame, int], pd.DataFrame]) -> ray.data.Dataset:
    """``fn(block, offset)`` of every block of ``ds`` in order, ``offset`` the block's first
    row's place in ``ds``: e.g. a contiguous index after a sort."""
    _, offsets = ordered_refs(ds)
    return with_args(ds, fn, [(int(offset),) for offset in offsets])
