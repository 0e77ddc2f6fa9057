"""Hard negatives: score U uniform candidates with the current model, keep the k hardest."""

from __future__ import annotations

import torch

from raytrec.data.base import DataInfo
from raytrec.errors import ArgumentError
from raytrec.samplers.base import Negatives, Sampler, check_num_negatives
from raytrec.samplers.uniform import UniformSampler


class HardSampler(Sampler):
    """The ``num_negatives`` highest-scoring of ``num_candidates`` uniform candidates.

    Scoring is done without gradient, in inference mode (no dropout, no batch-statistics
    updates). ``Negatives.candidate_scores`` carries the ``(B, U)`` scores of all U candidates,
    so that a rank-weighted loss (CML, WARP) counts the violators of *its own* margin over all
    U even though it gets only the k kept.

    ``log_q`` is that of the uniform draw of the candidates, not of the kept ones, which are
    chosen by score: no known probability, so a logQ-correcting loss is refused with it.

    Args:
        num_candidates: U, candidates scored per positive.
        num_negatives: k, the hardest ones kept.
        exclude_positives: never offer the user's own training items.
        pool_size: draw the candidates from a pool shared by the batch.
    """

    log_q_known = False

    def __init__(self, num_candidates: int = 20, num_negatives: int = 1,
                 exclude_positives: bool = False, pool_size: int | None = None) -> None:
        self.num_negatives = check_num_negatives(num_negatives)
        if check_num_negatives(num_candidates, "num_candidates") < num_negatives:
            raise ArgumentError("num_candidates", f"must be >= num_negatives ({num_negatives}), "
                                f"got {num_candidates}")
        self.num_candidates = num_candidates
        self.candidates = UniformSampler(num_candidates, exclude_positives=exclude_positives,
                                         pool_size=pool_size)
        self.mapper: torch.nn.Module | None = None

    def setup(self, info: DataInfo) -> None:
        super().setup(info)
        if self.num_candidates > info.num_items:
            raise ArgumentError(
                "num_candidates",
                f"num_candidates={self.num_candidates} is larger than the catalogue "
                f"({info.num_items} items); lower sampler.num_candidates")
        self.candidates.setup(info)

    def attach(self, mapper: torch.nn.Module) -> None:
        self.mapper = mapper

    @torch.no_grad()
    def sample(
        self, users: torch.Tensor, items: torch.Tensor, generator: torch.Generator
    ) -> Negatives:
        if self.mapper is None:
            raise RuntimeError("HardSampler needs the mapper: call attach(mapper) first")
        cand = self.candidates.sample(users, items, generator)
        # Inference mode: scoring must not move batch statistics or draw dropout masks.
        training = self.mapper.training
        self.mapper.eval()
        try:
            q = self.mapper.queries(users)
            if cand.pool is not None:
                scores = self.mapper.score_candidates(q, cand.pool).gather(1, cand.pool_index)
            else:
                scores = self.mapper.score_candidates(q, cand.ids)
        finally:
            self.mapper.train(training)
        top = scores.topk(self.num_negatives, dim=1).indices
        return Negatives(cand.ids.gather(1, top), cand.log_q.gather(1, top), shared=False,
                         candidate_scores=scores)
