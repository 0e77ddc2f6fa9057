"""Losses."""

from raytrec.losses.base import Loss, LossInput, LossOutput, Selection

__all__ = ["Loss", "LossInput", "LossOutput", "Selection"]
