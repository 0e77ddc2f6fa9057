"""Evaluation: ranking metrics over full-catalogue retrieval."""

from raytrec.evaluation.evaluate import MetricSums, evaluate
from raytrec.evaluation.metrics import per_user

__all__ = ["MetricSums", "evaluate", "per_user"]
