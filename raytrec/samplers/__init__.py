"""Negative samplers."""

from raytrec.samplers.base import Negatives, Sampler

__all__ = ["Negatives", "Sampler"]
