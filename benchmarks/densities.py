"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/densities.py [--smoke-test]
    [--data NAME,...] [--config NAME=FILE ...] [--set KEY=VALUE ...] [--skip-baselines]
    [--old REV]

Does a config hold on data it was not tuned on? Each config (default: every example model; the
CML+F and two-tower ones, which read MovieLens' feature columns, on the MovieLens sets only) on
data sets of several densities, with only the ``data:`` section changed, beside popularity,
EASE and a tuned implicit ALS on the same split:

- ``ml100k``: MovieLens-100K (943 users, 1,682 items, 6.3% dense);
- ``ml100k-1%``, ``ml100k-0.1%``: MovieLens-100K with a seeded random sixth / sixty-third of its
  ratings kept (users left with fewer than 5 stay train-only, as in every 60/20/20 split), with
  its user and item feature tables, so the CML+F and two-tower examples run on them too;
- ``synthetic-sparse``: 8,000 users and 5,000 items with 6 interactions each (0.12% dense),
  50 taste clusters, power-law popularity;
- ``citeulike-synthetic``: a ``users.dat`` in CiteULike's format written from 3,000 synthetic
  users over 5,000 articles (0.3% dense), read by the CiteULike loader.

(Catalogues of 5,000 items keep EASE, whose cost grows with the cube of the catalogue, to a
minute.)

One JSON line per (data, model): test recall@50 and ndcg@10 at the best validation epoch, the
epochs run and the fit seconds. ALS (``implicit``, CPU) is tuned on validation recall@50 over
factors × regularisation × confidence weight; EASE's λ on its grid (``raytrec.evaluation.ease``).
Everything runs in this process (``num_workers: 0``).
"""

from __future__ import annotations

import itertools
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common.setup import arguments, start_benchmark

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CONFIGS = {"cml": "cml_ml100k.yaml", "bpr": "bpr_ml100k.yaml", "mf": "mf_ml100k.yaml",
           "cmlf": "cmlf_ml100k.yaml", "two-tower": "two_tower_ml100k.yaml"}
FEATURES = ("genres", "occupation")  # a config naming these needs MovieLens' feature tables
DATA = ("ml100k", "ml100k-1%", "ml100k-0.1%", "synthetic-sparse", "citeulike-synthetic")
KEEP = {"ml100k-1%": 6, "ml100k-0.1%": 63}  # keep one rating in this many
ALS_GRID = {"factors": (64, 128), "regularization": (0.01, 0.1, 1.0), "alpha": (1.0, 10.0)}

logger = logging.getLogger("benchmarks.densities")


def data_section(name: str, work: Path) -> str:
    """The ``data=`` override of data set ``name`` (its files written into ``work``)."""
    if name == "ml100k":
        return "data={name: movielens-100k}"
    if name in KEEP:
        path, items, users = (work / f"{name}{part}.parquet"
                              for part in ("", "-items", "-users"))
        if not path.exists():
            raw = _ml100k()
            ratings = raw.interactions[["user", "item"]].rename(
                columns={"user": "user_id", "item": "item_id"})
            keep = np.random.default_rng(0).random(len(ratings)) < 1.0 / KEEP[name]
            ratings[keep].to_parquet(path)
            # The feature tables too, so the CML+F and two-tower examples run on it.
            raw.item_features.rename_axis("item_id").reset_index().to_parquet(items)
            raw.user_features.rename_axis("user_id").reset_index().to_parquet(users)
        return (f"data={{name: parquet, path: {path}, item_features: {items}, "
                f"user_features: {users}}}")
    if name == "synthetic-sparse":
        return ("data={name: synthetic, num_users: 8000, num_items: 5000, "
                "interactions_per_user: 6, num_clusters: 50, in_cluster: 0.6}")
    if name == "citeulike-synthetic":
        path = work / "users.dat"
        if not path.exists():
            _write_users_dat(path)
        return f"data={{name: citeulike, path: {path}}}"
    raise SystemExit(f"unknown data set {name!r}; choose from {', '.join(DATA)}")


def _ml100k() -> Any:
    from raytrec.data.movielens import MovieLens100K

    return MovieLens100K().load()


def _write_users_dat(path: Path) -> None:
    """CiteULike's ``users.dat``: line u lists user u's articles as ``count item item ...``."""
    from raytrec.data.synthetic import SyntheticDataset

    raw = SyntheticDataset(num_users=3000, num_items=5000, interactions_per_user=15,
                           num_clusters=40, popularity_exponent=0.8, in_cluster=0.7,
                           timestamps=False, seed=1).load()
    frame = raw.interactions
    lines = []
    for _, items in frame.groupby("user", sort=True)["item"]:
        lines.append(" ".join(map(str, [len(items), *items.to_numpy()])))
    path.write_text("\n".join(lines) + "\n")


def old_configs(configs: dict[str, Path], rev: str, work: Path) -> dict[str, Path]:
    """The examples among ``configs`` as they were at git revision ``rev``."""
    old = {}
    for model, config in configs.items():
        relative = config.resolve().relative_to(ROOT)
        text = subprocess.run(["git", "show", f"{rev}:{relative}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
        path = work / f"old-{config.name}"
        path.write_text(text)
        old[f"{model}-old"] = path
    return old


def train(config: Path, overrides: list[str], run_dir: Path) -> tuple[dict[str, Any], float]:
    from raytrec.run.job import create_job
    from raytrec.run.launch import run_job

    job = create_job(config, ["scaling.num_workers=0", *overrides], run_dir, overwrite=True)
    start = time.perf_counter()
    summary = run_job(job)
    return summary, time.perf_counter() - start


def describe(data_dir: Path) -> dict[str, Any]:
    from raytrec.data.store import read_info, read_user_items

    info = read_info(data_dir)
    train_items = read_user_items(data_dir, "train", info.num_users)
    test_users = len(read_user_items(data_dir, "test", info.num_users).users())
    total = sum(json.loads((data_dir / "info.json").read_text())["num_interactions"].values())
    return {"users": info.num_users, "items": info.num_items, "interactions": total,
            "density_%": round(100 * total / (info.num_users * info.num_items), 3),
            "train_per_user": round(len(train_items.indices) / info.num_users, 1),
            "test_users": test_users}


def als_metrics(data_dir: Path, ks: list[int]) -> dict[str, Any]:
    """implicit's ALS on the training split, tuned on validation recall@50."""
    from implicit.cpu.als import AlternatingLeastSquares
    from scipy.sparse import csr_matrix

    from raytrec.data.store import read_info, read_user_items
    from raytrec.evaluation.data import EvalData
    from raytrec.evaluation.evaluate import evaluate
    from raytrec.retrievers.faiss_flat import FaissFlatRetriever

    info = read_info(data_dir)
    train = read_user_items(data_dir, "train", info.num_users)
    x = csr_matrix((np.ones(len(train.indices), dtype=np.float32), train.indices,
                    train.indptr), shape=(info.num_users, info.num_items))
    valid = EvalData.load(str(data_dir), "valid", info.num_users, train)
    test = EvalData.load(str(data_dir), "test", info.num_users, train)

    def scores(model: Any, data: Any) -> dict[str, float]:
        retriever = FaissFlatRetriever()
        retriever.build(np.ascontiguousarray(model.item_factors, dtype=np.float32), "dot")
        users = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        return evaluate(users.__getitem__, retriever, data.relevant.users(), data.relevant,
                        data.exclude, ks).means()

    best: tuple[float, dict[str, Any], Any] | None = None
    for factors, reg, alpha in itertools.product(*ALS_GRID.values()):
        model = AlternatingLeastSquares(factors=factors, regularization=reg, alpha=alpha,
                                        iterations=15, random_state=0, num_threads=2)
        model.fit(x, show_progress=False)
        got = scores(model, valid)["recall@50"]
        if best is None or got > best[0]:
            best = (got, {"factors": factors, "regularization": reg, "alpha": alpha}, model)
    assert best is not None
    return {"params": best[1], "valid_recall@50": round(best[0], 4),
            "test": scores(best[2], test)}


def baselines(data_dir: Path) -> list[dict[str, Any]]:
    from raytrec.evaluation.ease import ease_metrics
    from raytrec.evaluation.popularity import popularity_metrics

    ks = [10, 50]
    rows = [{"model": "popularity", **_test(popularity_metrics(data_dir, "test", ks))}]
    start = time.perf_counter()
    ease = ease_metrics(data_dir, ks, "recall@50")
    rows.append({"model": "ease", "lambda": round(ease.lam, 3), **_test(ease.test),
                 "fit_s": round(time.perf_counter() - start, 1)})
    start = time.perf_counter()
    als = als_metrics(data_dir, ks)
    rows.append({"model": "als", **als["params"], **_test(als["test"]),
                 "fit_s": round(time.perf_counter() - start, 1)})
    return rows


def _test(metrics: dict[str, float]) -> dict[str, float]:
    return {"test_recall@50": round(metrics["recall@50"], 4),
            "test_ndcg@10": round(metrics["ndcg@10"], 4)}


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true", help="2 epochs, one data set")
    parser.add_argument("--data", help="comma-separated data sets (default: "
                        + ",".join(DATA).replace("%", "%%") + ")")
    parser.add_argument("--config", action="append", default=[], metavar="NAME=FILE",
                        help="a config to run (default: the CML, BPR and MF examples)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override for every config")
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument("--old", metavar="REV",
                        help="also run each example as it was at git revision REV (as "
                             "'<model>-old')")
    parser.add_argument("--work", help="where the data files and runs go (default: a temp dir)")
    args = parser.parse_args(argv)
    start_benchmark()
    configs = ({n: Path(f) for n, f in (c.split("=", 1) for c in args.config)} or
               {n: EXAMPLES / f for n, f in CONFIGS.items()})
    names = args.data.split(",") if args.data else list(DATA)
    extra = list(args.set)
    if args.smoke_test:
        names, extra = names[:1], [*extra, "train.epochs=2"]
    work = Path(args.work or tempfile.mkdtemp(prefix="raytrec-densities-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.old:
        configs = {**configs, **old_configs(configs, args.old, work)}
    for name in names:
        data = data_section(name, work)
        first = True
        for model, config in configs.items():
            if not name.startswith("ml100k") and any(f in config.read_text() for f in FEATURES):
                continue  # a feature model: only the MovieLens sets have its columns
            run = work / "runs" / f"{name}-{model}".replace("%", "pct")
            summary, seconds = train(config, [*extra, data, "eval.ks=[10,50]"], run)
            if first:
                print(json.dumps({"data": name, **describe(run / "data")}), flush=True)
                if not args.skip_baselines:
                    for row in baselines(run / "data"):
                        print(json.dumps({"data": name, **row}), flush=True)
                first = False
            print(json.dumps({"data": name, "model": model,
                              "valid_recall@50": round(summary["valid"]["recall@50"], 4),
                              **_test(summary["test"]),
                              "best_epoch": summary["best_epoch"],
                              "epochs_run": summary["epochs_run"],
                              "fit_s": round(seconds, 1)}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
