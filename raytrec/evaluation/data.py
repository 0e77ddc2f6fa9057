"""The answers of one evaluation split, and what each user has already seen."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from raytrec.data.store import UserItems, read_user_items


@dataclass
class EvalData:
    """What evaluation of one split needs: its answers and what each user has already seen."""

    relevant: UserItems
    exclude: UserItems

    @classmethod
    def load(cls, data_dir: str, split: str, num_users: int, train: UserItems | None = None,
             part: int = 0, parts: int = 1) -> EvalData:
        """``split`` of the users ``u % parts == part`` (every user by default); ``train``:
        their training items, when read already."""
        def read(name: str) -> UserItems:
            return read_user_items(data_dir, name, num_users, part, parts)

        if train is None:
            train = read("train")
        if split == "valid":
            return cls(read("valid"), train)
        return cls(read("test"), train.merge(read("valid")))

    def only(self, items: np.ndarray) -> EvalData:
        """The answers within ``items`` (a ``(num_items,)`` bool mask), ranked over the whole
        catalogue: the exclusions stay as they are."""
        return EvalData(_only(self.relevant, items), self.exclude)

    def among(self, items: np.ndarray) -> EvalData:
        """Answers and exclusions within ``items`` only (a ``(num_items,)`` bool mask), item
        ids renumbered to their rank among them: what an index over just those items
        returns."""
        position = np.cumsum(items) - 1
        return EvalData(*(_renumbered(_only(part, items), position)
                          for part in (self.relevant, self.exclude)))


def _only(data: UserItems, keep: np.ndarray) -> UserItems:
    users = np.repeat(np.arange(len(data.indptr) - 1), data.counts())
    kept = keep[data.indices]
    return UserItems.from_pairs(users[kept], data.indices[kept], len(data.indptr) - 1)


def _renumbered(data: UserItems, position: np.ndarray) -> UserItems:
    return UserItems(data.indptr, position[data.indices])
