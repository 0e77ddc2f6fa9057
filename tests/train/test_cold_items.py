"""Items held out of training (``split.cold_items``): served from their features, scored
apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from raytrec.data.store import UserItems
from raytrec.evaluation.data import EvalData
from raytrec.run.job import create_job
from raytrec.run.launch import run_job
from tests.conftest import write_config

FEATURE_MLP = {"name": "feature-mlp", "dim": 16, "hidden": 32,
               "item_features": {"categorical": ["cluster"]}}


def test_answers_within_some_items_over_the_catalogue_and_among_themselves() -> None:
    relevant = UserItems.from_pairs(np.array([0, 0, 2, 2, 2]), np.array([1, 4, 0, 3, 4]), 3)
    seen = UserItems.from_pairs(np.array([1, 2]), np.array([3, 2]), 3)
    keep = np.array([True, False, False, True, True])
    only = EvalData(relevant, seen).only(keep)
    assert only.relevant.indptr.tolist() == [0, 1, 1, 4]
    assert only.relevant.indices.tolist() == [4, 0, 3, 4]
    assert only.exclude is seen
    among = EvalData(relevant, seen).among(keep)  # items 0, 3, 4 become 0, 1, 2
    assert among.relevant.indices.tolist() == [2, 0, 1, 2]
    assert among.exclude.indptr.tolist() == [0, 0, 1, 1] and among.exclude.indices.tolist() == [1]


def _train(root: Path, name: str, mapper: dict, loss: dict) -> dict:
    cfg = write_config(root / f"{name}.yaml", mapper=mapper, loss=loss,
                       split={"cold_items": 0.2}, train={"epochs": 12})
    return run_job(create_job(cfg, [], root / name, overwrite=False))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    """A CML+F run and a CML run with a fifth of the items held out: the run directory of the
    first and both summaries."""
    root = tmp_path_factory.mktemp("cold-items")
    features = _train(root, "cmlf", FEATURE_MLP, {"name": "cml", "lambda_f": 1.0})
    ids_only = _train(root, "cml", {"name": "embedding", "dim": 16}, {"name": "cml"})
    return root / "cmlf", features, ids_only


def test_cold_items_are_served_from_their_features_and_reported_apart(
        runs: tuple[Path, dict, dict]) -> None:
    # Each user likes one of 5 clusters; an item's cluster is its only feature. The cold
    # items' vectors come from the feature MLP alone, so a user's cold items rank near the
    # top of the cold ones; an ID embedding never trained on them ranks them at random.
    _, features, ids_only = runs
    for summary in (features, ids_only):
        groups = ("test_cold_items", "test_cold_items_among_cold", "test_warm_items")
        assert all(summary[g]["users"] > 0 for g in groups)
        assert summary["test_cold_items"]["users"] == \
            summary["test_cold_items_among_cold"]["users"]
    among = features["test_cold_items_among_cold"]["recall@10"]
    assert among > 0.5 and among > 1.5 * ids_only["test_cold_items_among_cold"]["recall@10"]
    assert features["test_cold_items"]["recall@20"] > ids_only["test_cold_items"]["recall@20"]


def test_evaluate_scores_a_cold_item_run_as_training_did(
        runs: tuple[Path, dict, dict]) -> None:
    """``raytrec evaluate`` ranks validation among the known items and reports the three
    cold-item groups, with the values of the run's own summary."""
    from raytrec.run.rescore import rescore

    run_dir, summary, _ = runs
    again = rescore(run_dir, [])
    for group in ("valid", "test", "test_cold_items", "test_cold_items_among_cold",
                  "test_warm_items"):
        assert again[group] == pytest.approx(summary[group], rel=1e-6), group


def test_the_feature_mapper_gives_unseen_items_their_feature_vectors(
        runs: tuple[Path, dict, dict]) -> None:
    from raytrec.config import read_yaml, validate, with_defaults
    from raytrec.data.store import read_training_info
    from raytrec.plugins import get_registry
    from raytrec.train.parts import build_parts

    run = runs[0]
    config = validate(with_defaults(read_yaml(run / "config.yaml")), get_registry())
    info = read_training_info(run / "data")
    mapper = build_parts(config, info).mapper
    unseen = np.flatnonzero(info.item_counts == 0)
    assert len(unseen) >= 40  # 20% of 200 items
    mapper.eval()
    with torch.no_grad():
        served = mapper.all_items()
        ids = torch.from_numpy(unseen)
        seen = torch.from_numpy(np.flatnonzero(info.item_counts > 0))
        assert torch.equal(served[seen], mapper.item_emb[seen])
        # f(x_j)'s direction, at the median norm of the learnt item vectors
        direction = torch.nn.functional.normalize(mapper.item_feature_vectors(ids), dim=1)
        norm = mapper.item_emb[seen].norm(dim=1).median()
        assert torch.allclose(served[ids], direction * norm, atol=1e-5)
        mapper.unseen_items = "ids"  # rare items, not new ones: their own vectors
        assert torch.equal(mapper.all_items(), mapper.item_emb)
        mapper.unseen_items = "features"
    mapper.train()
    assert torch.equal(mapper.all_items(), mapper.item_emb)


def test_ranking_among_some_items_is_ranking_with_the_others_excluded() -> None:
    """``evaluate_split(items=...)`` indexes just those items: the same metrics as ranking the
    whole catalogue with every other item excluded for every user."""
    from raytrec.config import validate, with_defaults
    from raytrec.config.sections import EvalSection
    from raytrec.evaluation.distributed import evaluate_split
    from raytrec.plugins import get_registry
    from raytrec.retrievers.faiss_flat import FaissFlatRetriever
    from raytrec.testing.common import tiny_info
    from raytrec.train.parts import build_parts

    info = tiny_info(num_users=12, num_items=300)
    config = validate(with_defaults({"mapper": {"name": "embedding", "dim": 8}}), get_registry())
    torch.manual_seed(0)
    mapper = build_parts(config, info).mapper
    rng = np.random.default_rng(1)
    users = np.repeat(np.arange(12), 20)
    relevant = UserItems.from_pairs(users, rng.integers(0, 300, len(users)), 12)
    data = EvalData(relevant, info.positives)
    keep = rng.random(300) < 0.5
    eval_cfg = EvalSection(ks=[5, 20], metric="recall@20", chunk_size=4)
    among = evaluate_split(mapper, FaissFlatRetriever(), data.among(keep), eval_cfg, 0, 1,
                           torch.device("cpu"), items=keep)
    others = np.flatnonzero(~keep)
    hidden = UserItems.from_pairs(np.repeat(np.arange(12), len(others)), np.tile(others, 12), 12)
    excluded = evaluate_split(mapper, FaissFlatRetriever(), EvalData(
        data.only(keep).relevant, info.positives.merge(hidden)), eval_cfg, 0, 1,
        torch.device("cpu"))
    assert among["users"] == excluded["users"] > 0
    for key in ("recall@5", "recall@20", "ndcg@20"):
        assert among[key] == pytest.approx(excluded[key], abs=1e-6), key
