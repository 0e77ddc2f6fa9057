"""Keeps the best model by the validation metric, and decides when to stop early."""

from __future__ import annotations

from typing import Any

import torch

from raytrec.train.checkpoint import cpu_state


class BestTracker:
    def __init__(self, metric: str, patience: int | None) -> None:
        self.metric, self.patience = metric, patience
        self.best_value = float("-inf")
        self.best_epoch = 0
        self.best_state: dict[str, torch.Tensor] | None = None
        self.stale = 0

    def update(self, epoch: int, metrics: dict[str, float], module: torch.nn.Module) -> bool:
        value = metrics[self.metric]
        if value > self.best_value:
            self.best_value, self.best_epoch = value, epoch
            self.best_state = cpu_state(module)
            self.stale = 0
            return True
        self.stale += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.stale >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {"best_value": self.best_value, "best_epoch": self.best_epoch,
                "best_state": self.best_state, "stale": self.stale}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_value, self.best_epoch = state["best_value"], state["best_epoch"]
        self.best_state, self.stale = state["best_state"], state["stale"]
