"""Export a finished run, then recommend from the export and from the run directory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from raytrec.data.store import read_user_items
from raytrec.serve.recommend import open_source, recommend
from raytrec.testing.retrievers import exact_scores
from tests.bad_input.conftest import run_cli


def _exact_top(run: Path, users: np.ndarray, k: int) -> np.ndarray:
    """Exact top-k item indexes of ``users`` without their training items, by numpy."""
    source = open_source(run)
    v = source.vectors
    scores = exact_scores(v.users[users].astype(np.float64), v.items.astype(np.float64),
                          v.distance)
    seen = read_user_items(run / "data", "train", v.num_users)
    for row, u in enumerate(users):
        scores[row, seen.indices[seen.indptr[u]:seen.indptr[u + 1]]] = -np.inf
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("retriever", ["faiss-flat", "faiss-hnsw", "faiss-ivf", "faiss-lsh",
                                       "torch-exact"])
def test_an_export_serves_what_the_run_serves(tiny_run: Path, tmp_path: Path, capsys,
                                              retriever: str) -> None:
    out = tmp_path / "export"
    code, _, err = run_cli(capsys, "export", tiny_run, "--out", out,
                           "--retriever", retriever)
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["distance"] == "l2" and manifest["dim"] == 16
    assert manifest["retriever"]["name"] == retriever
    assert manifest["num_items"] == 200 and manifest["num_users"] == 300
    assert ("file" in manifest["index"]) == retriever.startswith("faiss")
    users = [str(u) for u in range(0, 300, 7)]
    from_export = recommend(open_source(out), users, 10)
    want = _exact_top(tiny_run, np.array([int(u) for u in users]), 10)
    v = open_source(tiny_run).vectors
    got = from_export.groupby("user", sort=False)["item"].apply(list)
    overlap = np.mean([len(set(got[v.user_ids[int(u)]]) & set(v.item_ids[w])) / 10
                       for u, w in zip(users, want, strict=True)])
    assert overlap >= (1.0 if retriever in ("faiss-flat", "torch-exact") else 0.9)
    assert (from_export.groupby("user")["score"].diff().dropna() <= 1e-6).all(), "best first"


def test_seen_items_are_excluded_unless_asked(tiny_run: Path) -> None:
    source = open_source(tiny_run)
    seen = read_user_items(tiny_run / "data", "train", source.vectors.num_users)
    user = 5
    mine = set(source.vectors.item_ids[seen.indices[seen.indptr[user]:seen.indptr[user + 1]]])
    default = recommend(source, [str(user)], 20)
    assert not mine & set(default["item"])
    everything = recommend(source, [str(user)], 20, include_seen=True)
    assert mine & set(everything["item"]), "the nearest items include seen ones"
    assert everything["rank"].tolist() == list(range(1, 21))


def test_recommend_for_many_users_writes_a_parquet(tiny_run: Path, tmp_path: Path,
                                                   capsys) -> None:
    ids = tmp_path / "users.txt"
    ids.write_text("3\n\n8\n13\n")
    out = tmp_path / "recs.parquet"
    code, stdout, err = run_cli(capsys, "recommend", tiny_run, "--users", ids, "-k", "4",
                                "--out", out)
    assert code == 0, err
    frame = pd.read_parquet(out)
    assert frame.columns.tolist() == ["user", "rank", "item", "score"]
    assert frame["user"].tolist() == [3] * 4 + [8] * 4 + [13] * 4
    assert "12 recommendations for 3 users" in stdout
    code, _, err = run_cli(capsys, "recommend", tiny_run, "--users", ids, "--out", out)
    assert code == 2 and "already exists" in err  # never replaced
    assert len(pd.read_parquet(out)) == 12


def test_one_user_as_a_table_and_as_json(tiny_run: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "recommend", tiny_run, "--user", "3", "-k", "3")
    assert code == 0 and "rank" in out and "seen items excluded" in " ".join(out.split())
    code, out, _ = run_cli(capsys, "recommend", tiny_run, "--user", "3", "-k", "3",
                           "--json")
    rows = json.loads(out)
    assert [r["rank"] for r in rows] == [1, 2, 3] and all(r["user"] == 3 for r in rows)


def test_users_outside_the_run_are_served_from_their_features(tmp_path: Path, capsys) -> None:
    """Two-tower reading the synthetic users' ``cluster``: a new user of a cluster gets the
    vector a user of the data without training rows in that cluster would get, and the
    items of that cluster; the run's users keep their own vectors."""
    from raytrec.cli.main import main
    from raytrec.serve.new_users import FeatureQueries
    from tests.conftest import write_config

    cfg = write_config(tmp_path / "c.yaml", train={"epochs": 2}, loss={"name": "bpr"},
                       mapper={"name": "two-tower", "dim": 16, "distance": "cosine",
                               "user_features": {"categorical": ["cluster"]}, "hidden": [32]})
    run = tmp_path / "run"
    assert main([str(a) for a in ("train", cfg, "--run-dir", run)]) == 0
    capsys.readouterr()
    clusters = pd.read_parquet(run / "data" / "user_features.parquet")["cluster"]
    features = tmp_path / "new.parquet"
    pd.DataFrame({"user": ["newbie", "other"],
                  "cluster": [clusters.iloc[0], clusters.iloc[-1]]}).to_parquet(features)
    code, out, err = run_cli(capsys, "recommend", run, "--user", "newbie", "-k", "5",
                             "--user-features", features, "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["user"] for r in rows] == ["newbie"] * 5 and [r["rank"] for r in rows] == [1, 2,
                                                                                      3, 4, 5]
    # The same scores as the mapper gives those features directly.
    queries = FeatureQueries(run, features)(pd.DataFrame({"cluster": [clusters.iloc[0]]}))
    v = open_source(run).vectors
    top = [int(np.flatnonzero(v.item_ids.astype(str) == str(r["item"]))[0]) for r in rows]
    expected = exact_scores(queries.astype(np.float64), v.items[top].astype(np.float64),
                            v.distance)[0]
    np.testing.assert_allclose([r["score"] for r in rows], expected, rtol=1e-4, atol=1e-5)

    # Known users and new ones in one file; ids from the run keep their recommendations.
    users = tmp_path / "users.txt"
    users.write_text("0\nnewbie\nother\n")
    code, _, err = run_cli(capsys, "recommend", run, "--users", users, "--out",
                           tmp_path / "recs.parquet", "--user-features", features)
    assert code == 0, err
    recs = pd.read_parquet(tmp_path / "recs.parquet")
    assert list(dict.fromkeys(recs["user"])) == ["0", "newbie", "other"]
    known = recommend(open_source(run), ["0"], 10)
    assert recs[recs["user"] == "0"]["item"].tolist() == known["item"].tolist()

    code, _, err = run_cli(capsys, "recommend", run, "--user", "stranger", "--user-features",
                           features)
    assert code == 2 and "user 'stranger' is not among" in err and "--user-features" in err


def test_features_cannot_serve_a_model_without_user_features(tiny_run: Path, tmp_path: Path,
                                                             capsys) -> None:
    features = tmp_path / "new.csv"
    features.write_text("user,cluster\nnewbie,1\n")
    code, _, err = run_cli(capsys, "recommend", tiny_run, "--user", "newbie",
                           "--user-features", features)
    assert code == 2
    assert "cannot serve users from features" in err and "reads no user features" in err
    assert "Traceback" not in err
