"""Conformance checks for raytrec components: what raytrec runs on its own, for plugin authors
to run in their own test suites.

    from raytrec.testing import check_loss
    def test_my_loss():
        check_loss(MyLoss, margin=0.3)

Each ``check_*`` builds the component with the keyword arguments given, exercises its kind's
contract on a tiny data set (``tiny_info``) and raises ``ConformanceError`` (an
AssertionError, so pytest shows it as a failed test) naming the rule that was broken.
``check_training(MyLoss, margin=0.3)`` (any kind) trains the component for two epochs through
raytrec's own loop and checks that a run stopped after its first epoch and resumed ends with
the same model as an uninterrupted one. ``check_task`` and ``check_dataset`` check the other
two kinds on a small run's data, through raytrec's own preparation.
"""

from raytrec.testing.common import ConformanceError, tiny_info
from raytrec.testing.datasets import check_dataset
from raytrec.testing.losses import check_loss
from raytrec.testing.mappers import check_mapper
from raytrec.testing.retrievers import check_retriever
from raytrec.testing.samplers import check_sampler
from raytrec.testing.tasks import check_task
from raytrec.testing.training import check_training

__all__ = ["ConformanceError", "check_dataset", "check_loss", "check_mapper",
           "check_retriever", "check_sampler", "check_task", "check_training", "tiny_info"]
