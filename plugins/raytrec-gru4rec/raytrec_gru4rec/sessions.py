"""Sessions as flat arrays, cut from event tables, split by time.

A ``Sessions`` holds S sessions of item indexes in time order: session s is
``items[offsets[s]:offsets[s + 1]]``, its event times in ``times``. Every session has at least
two events (one transition from an input item to the next, the target).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SESSION, ITEM, TIME = "session", "item", "timestamp"
DAY_S = 86_400.0


@dataclass
class Sessions:
    offsets: np.ndarray  # (S + 1,) int64
    items: np.ndarray  # (N,) int64 item indexes
    times: np.ndarray  # (N,) float64 seconds

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def transitions(self) -> int:
        """Input → target pairs: one fewer than each session's events."""
        return int(self.lengths.sum() - len(self))

    def inputs(self) -> np.ndarray:
        """Positions in ``items`` of every transition's input: each event but its session's
        last (the target is the next position)."""
        last = np.zeros(len(self.items), dtype=bool)
        last[self.offsets[1:] - 1] = True
        return np.flatnonzero(~last)

    def take(self, which: np.ndarray) -> Sessions:
        """The sessions ``which`` (indexes, in that order)."""
        which = np.asarray(which, dtype=np.int64)
        lengths = self.lengths[which]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        rows = np.concatenate([np.arange(self.offsets[s], self.offsets[s + 1]) for s in which]) \
            if len(which) else np.zeros(0, dtype=np.int64)
        return Sessions(offsets, self.items[rows], self.times[rows])


def from_events(frame: pd.DataFrame, items: pd.Index) -> Sessions:
    """Sessions of ``frame`` (columns session, item, timestamp) over the catalogue ``items``
    (raw ids; events of other items are dropped), each in time order, sessions ordered by
    their first event; sessions left with fewer than two events are dropped."""
    index = items.get_indexer(frame[ITEM])
    kept = frame.loc[index >= 0, [SESSION, TIME]].assign(item=index[index >= 0])
    kept = kept.sort_values([SESSION, TIME], kind="stable")
    sizes = kept.groupby(SESSION, sort=False).size()
    kept = kept[kept[SESSION].map(sizes).to_numpy() >= 2]
    starts = kept.groupby(SESSION, sort=False)[TIME].transform("min")
    kept = kept.assign(start=starts.to_numpy()).sort_values(["start", SESSION, TIME],
                                                             kind="stable")
    lengths = kept.groupby(SESSION, sort=False).size().to_numpy()
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return Sessions(offsets, kept[ITEM].to_numpy(np.int64), kept[TIME].to_numpy(np.float64))


def sessionize(frame: pd.DataFrame, user: str, gap_s: float) -> pd.DataFrame:
    """Cut each user's timeline into sessions where two events are more than ``gap_s`` apart:
    columns session (``"<user>:<n>"``), item, timestamp."""
    ordered = frame.sort_values([user, TIME], kind="stable")
    new_user = ordered[user].ne(ordered[user].shift())
    gap = ordered[TIME].diff().gt(gap_s)
    number = (new_user | gap).cumsum()
    return pd.DataFrame({SESSION: number.to_numpy(), ITEM: ordered[ITEM].to_numpy(),
                         TIME: ordered[TIME].to_numpy(np.float64)})


@dataclass
class SplitSessions:
    train: Sessions
    valid: Sessions
    test: Sessions
    items: pd.Index  # raw id of item index i: the items of the training sessions
    dropped: dict[str, int]


def split_by_time(frame: pd.DataFrame, test_days: float, valid_days: float) -> SplitSessions:
    """GRU4Rec's split: sessions that end within ``test_days`` of the last event are test,
    those that end within ``valid_days`` before them validation, the rest train. The catalogue
    is the training sessions' items; evaluation events of other items are dropped, then
    sessions left with fewer than two events."""
    ends = frame.groupby(SESSION)[TIME].transform("max").to_numpy()
    last = float(frame[TIME].max())
    test_from = last - test_days * DAY_S
    valid_from = test_from - valid_days * DAY_S
    parts = {"train": frame[ends < valid_from], "valid": frame[(ends >= valid_from) &
                                                               (ends < test_from)],
             "test": frame[ends >= test_from]}
    items = pd.Index(np.sort(parts["train"][ITEM].unique()))
    found = {name: from_events(part, items) for name, part in parts.items()}
    dropped = {f"{name} events of items not in training":
               int((~part[ITEM].isin(items)).sum()) for name, part in parts.items()
               if name != "train"}
    dropped["events of sessions shorter than 2"] = int(
        len(frame) - sum(len(s.items) for s in found.values()) - sum(dropped.values()))
    return SplitSessions(found["train"], found["valid"], found["test"], items, dropped)
