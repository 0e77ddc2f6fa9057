"""In-batch negatives plus extra items shared by the batch (GRU4Rec with top-k gains)."""

from __future__ import annotations

import torch

from raytrec.data.base import DataInfo
from raytrec.samplers.base import Negatives, check_num_negatives
from raytrec.samplers.in_batch import InBatchSampler
from raytrec.samplers.popularity import PopularitySampler


class MixedSampler(InBatchSampler):
    """The batch's positives plus ``num_negatives`` extra items drawn ∝ count^alpha.

    The extras are shared by the whole batch, so all ``B + N`` negatives are scored with one
    matrix product: the cost stays nearly flat as N grows (seed: up to ~2048 on parallel
    hardware).

    ``log_q`` is the same for an item whichever group drew it: the log-probability of one draw
    from the mixture the whole sample comes from, ``log((B p_j + N q_j) / (B + N))`` with ``p``
    the in-batch (training count) and ``q`` the extras' (count^alpha) probabilities; that is the
    item's expected count in the sample, up to a constant that cancels in a softmax. It is the
    sampled-softmax correction for such a mixture; the positive's logit gets the same.

    Args:
        num_negatives: N, extra items per batch.
        alpha: 0 draws extras uniformly, 1 in proportion to popularity.
        exclude_positives: mask negatives that are the row user's training positives.
    """

    repeats_by_design = True  # the extras: GRU4Rec draws 2048 whatever the catalogue's size

    def __init__(self, num_negatives: int = 256, alpha: float = 0.75,
                 exclude_positives: bool = False) -> None:
        super().__init__(exclude_positives)
        self.num_negatives = check_num_negatives(num_negatives)
        self.extras = PopularitySampler(num_negatives=num_negatives, alpha=alpha, shared=True)
        self.extras.repeats_by_design = True
        self.alpha = self.extras.alpha

    def setup(self, info: DataInfo) -> None:
        super().setup(info)
        self.extras.setup(info)
        self.probs = torch.stack([self.item_log_q.double().exp(),
                                  torch.from_numpy(self.extras.item_probs(info))])  # (2, I)

    def sample(
        self, users: torch.Tensor, items: torch.Tensor, generator: torch.Generator
    ) -> Negatives:
        batch = super().sample(users, items, generator)
        extra = self.extras.sample(users, items, generator)
        ids = torch.cat([items, extra.ids])
        mask = torch.cat([batch.mask, self.batch_mask(users, items, extra.ids)], dim=1)
        b, n = len(items), self.num_negatives
        shares = torch.tensor([[b / (b + n)], [n / (b + n)]], dtype=self.probs.dtype,
                              device=items.device)
        # The mixture's probabilities, looked up for the batch's items only.
        log_q = (shares * self.probs[:, ids]).sum(0).log().float()
        return Negatives(ids, log_q, shared=True, mask=mask, pos_log_q=log_q[:len(items)])
