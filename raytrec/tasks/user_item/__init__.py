"""The built-in ``user-item`` task: user ids as queries, their held-out items as answers, top-K
retrieval over the whole catalogue."""

from raytrec.tasks.user_item.task import UserItemTask

__all__ = ["UserItemTask"]
