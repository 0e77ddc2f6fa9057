"""Tasks: what a run trains on and how it is scored (``raytrec.tasks.base``)."""

from raytrec.tasks.base import Baselines, Batches, Evaluation, Task

__all__ = ["Baselines", "Batches", "Evaluation", "Task"]
