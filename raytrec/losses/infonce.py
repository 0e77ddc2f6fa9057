"""InfoNCE / sampled softmax with a temperature and optional logQ correction."""

from __future__ import annotations

import math

import torch
from torch import nn

from raytrec.errors import ArgumentError
from raytrec.losses.base import Loss, LossInput, LossOutput


class InfoNCELoss(Loss):
    """``mean_i -log softmax([r_i, r_i1, ..., r_iN] / τ)[0]``.

    The positive competes with the row's negatives (sampled, in-batch or both). With
    ``logq_correction`` each negative's logit becomes ``r_ij/τ - log q_ij`` (Yi et al. 2019), so
    that items sampled often (popular ones, in-batch) are not pushed down more than they
    deserve; with in-batch sampling the positive's own logit is corrected too (the sampler
    reports its ``pos_log_q``), as the positives are drawn by the same process.

    Args:
        temperature: τ > 0 (initial value when learnable).
        learnable: learn τ (as log τ, kept in [min_temperature, 1/min_temperature]).
        logq_correction: subtract the sampler's log-probability from negative logits.
        min_temperature: lower bound of a learnable τ.
    """

    def __init__(self, temperature: float = 0.1, learnable: bool = False,
                 logq_correction: bool = False, min_temperature: float = 0.01) -> None:
        super().__init__()
        if temperature <= 0:
            raise ArgumentError("temperature", f"must be > 0, got {temperature}")
        if not 0 < min_temperature <= temperature:
            raise ArgumentError("min_temperature",
                                f"must be in (0, temperature], got {min_temperature}")
        self.learnable, self.logq_correction = bool(learnable), bool(logq_correction)
        self.uses_log_q = self.logq_correction
        self.min_log = math.log(min_temperature)
        log_tau = torch.tensor(math.log(temperature))
        if self.learnable:
            self.log_tau = nn.Parameter(log_tau)
        else:
            self.register_buffer("log_tau", log_tau)

    @property
    def temperature(self) -> torch.Tensor:
        return self.log_tau.clamp(self.min_log, -self.min_log).exp()

    def compute(self, batch: LossInput) -> LossOutput:
        tau = self.temperature
        neg, pos = batch.neg / tau, batch.pos / tau
        if self.logq_correction:
            neg = neg - batch.log_q
            if batch.pos_log_q is not None:
                pos = pos - batch.pos_log_q
        logits = torch.cat([pos.unsqueeze(1), batch.masked_scores(neg)], dim=1)
        loss = (torch.logsumexp(logits, dim=1) - logits[:, 0]).mean()
        return LossOutput(loss, {"infonce": loss.detach(), "temperature": tau.detach()})
