"""``data.engine: ray``: the prepared layout of ``raytrec.data.prepare``, made by Ray Data
stages on the cluster, file for file the same as the pandas engine's for the same data and
seed. The driver holds what is small (counts, per-block summaries, the info); the rows go
from the read tasks through the shuffles to the writer tasks.

Stages: read the files in parts, each row tagged with its file and place
(``cluster.read``); check the ids and type them (``cluster.checks``); drop rows rated below
``min_rating``; merge repeated pairs and draw the per-user split on buckets of whole users
(``cluster.users``); cut ``temporal`` over all rows; hold out cold users and items (the ones
with the smallest keys); number the ids in sorted order and join the numbers in; sort train by
its keyed order and valid/test by user, and write each (``cluster.write``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import ray
import ray.data
from ray.data.context import ShuffleStrategy

from raytrec.data.base import ITEM, RATING, SPLIT, SPLITS, TIMESTAMP, USER, Dataset
from raytrec.data.buckets import BUCKET, buckets_of
from raytrec.data.cluster import checks
from raytrec.data.cluster.blocks import ordered_refs, with_offsets
from raytrec.data.cluster.ids import numbered
from raytrec.data.cluster.read import Part, check_dataset, parts, read_part
from raytrec.data.cluster.report import quiet_ray_data, stage
from raytrec.data.cluster.users import CODE, ORDER, bucket, per_user
from raytrec.data.cluster.write import write_ids, write_split
from raytrec.data.keys import COLD_ITEMS, COLD_USERS, ROW_ORDER, row_keys
from raytrec.data.prepare import MERGED, USER_COUNTS, finish
from raytrec.data.splits import TEST, SplitConfig
from raytrec.data.tabular import TabularDataset
from raytrec.errors import DataError

ROWS_PER_BUCKET = 1 << 21  # rows a bucket of whole users holds, about: ~100 MB in pandas
USER_INDEX, ITEM_INDEX = "_user_index", "_item_index"


def prepare_on_cluster(dataset: Dataset, split: SplitConfig, out_dir: Path) -> dict[str, object]:
    """Prepare ``dataset`` into ``out_dir`` (atomically, as ``prepare.prepare`` does) with
    Ray Data on the Ray cluster this process is connected to. Returns the ``info.json``
    content."""
    dataset = check_dataset(dataset)
    with checks.data_errors(), _in_order(), quiet_ray_data():
        stage(f"reading and checking the {dataset.name} dataset's files")
        read = _read(dataset)
        summary = checks.summarise(read, dataset)
        read = checks.typed(read, dataset, summary)
        read_rows = int(summary["rows"].sum())
        dropped = {}
        if dataset.min_rating is not None:
            read = read.map_batches(_rated, fn_args=(dataset.min_rating,),
                                    batch_format="pandas")
            dropped["rated below min_rating"] = int(summary["below_min_rating"].sum())
        kept = read_rows - sum(dropped.values())
        if not kept:
            raise DataError(f"dataset '{dataset.name}' has no interactions")
        given = SPLIT in read.columns()
        if given:
            checks.no_hold_outs(dataset.name, split)
        buckets = max(1, -(-kept // ROWS_PER_BUCKET))
        stage(f"merging repeated pairs, splitting per user ({kept:,} rows)")
        rows = (read.map_batches(bucket, fn_args=(buckets,), batch_format="pandas")
                .groupby("_bucket", num_partitions=buckets)
                .map_groups(per_user, fn_args=(split,), batch_format="pandas")
                .materialize())
        total = rows.count()
        if not given and split.method == "temporal":
            stage("cutting the temporal split over all rows")
            rows = _temporal(rows, split, total)
        for share, column, stream in ((split.cold_users, USER, COLD_USERS),
                                      (split.cold_items, ITEM, COLD_ITEMS)):
            if share > 0 and not given:
                stage(f"holding out cold {column}s")
                rows = _held_out(rows, total, column, share, split.seed, stream)
        stage("numbering the users and the items")
        by_user, num_users = numbered(rows, USER, USER_INDEX)
        by_item, num_items = numbered(by_user, ITEM, ITEM_INDEX)
        rows = by_item.map_batches(_indexed, batch_format="pandas").materialize()
        tmp = out_dir.with_name(out_dir.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            sizes, buckets, counts, columns = _write_splits(rows, tmp, num_items, num_users)
            if given and not sizes["train"]:
                raise DataError("the given split has no train rows")
            features = {}
            stage("writing the ids and the features")
            for kind, ids, column, index in (("user", by_user, USER, USER_INDEX),
                                             ("item", by_item, ITEM, ITEM_INDEX)):
                refs, _ = ordered_refs(ids)
                found = ray.get(write_ids.remote(
                    refs, column, index, str(tmp / f"{kind}s.parquet"), dataset, kind,
                    str(tmp / f"{kind}_features.parquet")))
                if found is not None:
                    features[kind] = found
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)  # nothing half-written stays
            raise
    return finish(tmp, out_dir, {
        "dataset": dataset.name, "num_users": num_users, "num_items": num_items,
        "num_interactions": sizes, "columns": list(columns), "interactions_read": read_rows,
        "dropped": {**dropped, MERGED: kept - total}, "features": features,
        "buckets": buckets}, counts)


@contextmanager
def _in_order() -> Iterator[None]:
    """Blocks come out of every stage in the order they went in (a sort's, for the index
    and the writers); shuffles by sorting, in tasks: on a small cluster Ray's default
    (aggregator actors) took 3-6x as long on MovieLens-100K. A stage's own exception reaches
    the driver as itself, so that a bad file's ``DataError`` is the message (Ray Data
    otherwise wraps it in a ``UserCodeException`` that arrives without its cause)."""
    context = ray.data.DataContext.get_current()
    options = context.execution_options
    before = (options.preserve_order, context.shuffle_strategy,
              context.raise_original_map_exception)
    options.preserve_order = True
    context.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    context.raise_original_map_exception = True
    try:
        yield
    finally:
        (options.preserve_order, context.shuffle_strategy,
         context.raise_original_map_exception) = before


def _write_splits(rows: ray.data.Dataset, tmp: Path, num_items: int, num_users: int
                  ) -> tuple[dict[str, int], dict[str, object], np.ndarray, dict[str, str]]:
    """``train|valid|test.parquet`` into ``tmp``, in user buckets: train in its keyed order
    within a bucket, valid and test by user; and ``user_counts.npy``. Returns each split's
    rows, ``info.json``'s ``buckets`` (the rows per row group, each split's rows per
    bucket), train's rows per item, and the columns written."""
    columns = {USER: "int64", ITEM: "int64"}
    for name in (RATING, TIMESTAMP):
        if name in rows.columns():
            columns[name] = "float64"
    sizes: dict[str, int] = {}
    buckets: dict[str, object] = {}
    counts = np.zeros(0, dtype=np.int64)
    for code, name in enumerate(SPLITS):
        stage(f"writing {name}.parquet")
        part = rows.map_batches(_coded_in_buckets, fn_args=(code,), batch_format="pandas")
        part = part.sort([BUCKET, ORDER] if name == "train" else [BUCKET, USER, ITEM])
        part = part.materialize()
        sizes[name] = part.count()
        refs, _ = ordered_refs(part)
        users = str(tmp / USER_COUNTS) if name == "train" else None
        found = ray.get(write_split.remote(refs, str(tmp / f"{name}.parquet"), columns,
                                           sizes[name], num_items, num_users, users))
        buckets[name], buckets["group_rows"] = found["buckets"], found["group_rows"]
        if name == "train":
            counts = found["items"]
    return sizes, buckets, counts, columns


def _read(dataset: TabularDataset) -> ray.data.Dataset:
    found: list[Part] = parts(dataset)
    items = ray.data.from_items([asdict(p) for p in found], override_num_blocks=len(found))

    def read(batch: pd.DataFrame) -> pd.DataFrame:
        return pd.concat([read_part(dataset, Part(**row)) for row in batch.to_dict("records")],
                         ignore_index=True)

    return items.map_batches(read, batch_size=1, batch_format="pandas").materialize()


def _temporal(rows: ray.data.Dataset, split: SplitConfig, total: int) -> ray.data.Dataset:
    """One cut over all rows by (timestamp, keyed tie-break), at the ``ratios`` quantiles."""
    r_train, r_valid, _ = split.ratios
    n_train, n_trval = round(total * r_train), round(total * (r_train + r_valid))

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(_tie=row_keys(split.seed, ROW_ORDER, frame[USER], frame[ITEM]))

    def cut(frame: pd.DataFrame, offset: int) -> pd.DataFrame:
        pos = offset + np.arange(len(frame))
        codes = np.where(pos < n_train, 0, np.where(pos < n_trval, 1, 2)).astype(np.int8)
        return frame.assign(**{CODE: codes}).drop(columns=["_tie"])

    ordered = rows.map_batches(keyed, batch_format="pandas").sort([TIMESTAMP, "_tie"])
    return with_offsets(ordered.materialize(), cut)


def _held_out(rows: ray.data.Dataset, total: int, column: str, share: float, seed: int,
              stream: int) -> ray.data.Dataset:
    """Every row of the ``round(share · n)`` of the ``n`` distinct ids in ``column`` with the
    smallest keys (``splits.held_out``) goes to test."""
    partitions = max(1, -(-total // ROWS_PER_BUCKET))  # ``total``: the rows of ``rows``
    distinct = rows.groupby(column, num_partitions=partitions).count().materialize()
    keep = round(share * distinct.count())
    if not keep:
        return rows

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"_key": row_keys(seed, stream, frame[column])})

    bar = distinct.map_batches(keyed, batch_format="pandas").sort("_key").limit(keep).max("_key")

    def hold(frame: pd.DataFrame) -> pd.DataFrame:
        cold = row_keys(seed, stream, frame[column]) <= np.uint64(bar)
        return frame.assign(**{CODE: np.where(cold, np.int8(TEST), frame[CODE].to_numpy())})

    return rows.map_batches(hold, batch_format="pandas")


def _indexed(frame: pd.DataFrame) -> pd.DataFrame:
    """The ids replaced by their indices."""
    return frame.drop(columns=[USER, ITEM]).rename(columns={USER_INDEX: USER,
                                                            ITEM_INDEX: ITEM})


def _coded_in_buckets(frame: pd.DataFrame, code: int) -> pd.DataFrame:
    rows = frame[frame[CODE] == code]
    return rows.assign(**{BUCKET: buckets_of(rows[USER])})


def _rated(frame: pd.DataFrame, floor: float) -> pd.DataFrame:
    return frame[frame[RATING] >= floor]
