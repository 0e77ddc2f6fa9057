"""The answers of one evaluation split, and what each user has already seen."""

from __future__ import annotations

from dataclasses import dataclass

from raytrec.data.store import UserItems, read_user_items


@dataclass
class EvalData:
    """What evaluation of one split needs: its answers and what each user has already seen."""

    relevant: UserItems
    exclude: UserItems

    @classmethod
    def load(cls, data_dir: str, split: str, num_users: int,
             train: UserItems | None = None) -> EvalData:
        if train is None:
            train = read_user_items(data_dir, "train", num_users)
        if split == "valid":
            return cls(read_user_items(data_dir, "valid", num_users), train)
        valid = read_user_items(data_dir, "valid", num_users)
        return cls(read_user_items(data_dir, "test", num_users), train.merge(valid))
