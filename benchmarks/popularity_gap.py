"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/popularity_gap.py [--users U] [--items I]
    [--per-user P] [--exponent A] [--epochs 1,3] [--models cml,bpr] [--smoke-test]

How far a few epochs of CML and BPR (the example configs with d=64 and 20 negatives, in this
process) get against popularity on synthetic data of a catalogue's shape: per model and
number of epochs, test Recall@50 over a seeded 10,000 test users beside popularity's on the
same users. The question it answers: whether "above popularity after one epoch" is a property
of the trainer or of the data and the model (run it at a size one machine trains quickly and
compare with ``big_run.py`` at full size).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common.runs import BPR_CONFIG, CML_CONFIG, IN_PROCESS, emit, train
from common.setup import arguments, start_benchmark

CONFIGS = {"cml": CML_CONFIG, "bpr": BPR_CONFIG}


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=2_000_000)
    parser.add_argument("--per-user", type=float, default=10.0)
    parser.add_argument("--exponent", type=float, default=1.0)
    parser.add_argument("--epochs", default="1,3")
    parser.add_argument("--models", default="cml,bpr")
    parser.add_argument("--smoke-test", action="store_true", help="tiny data, one epoch")
    args = parser.parse_args(argv)
    start_benchmark()
    from raytrec.evaluation.popularity import popularity_metrics

    users, items = (300, 2000) if args.smoke_test else (args.users, args.items)
    data = (f"data={{name: synthetic, num_users: {users}, num_items: {items}, "
            f"interactions_per_user: {args.per_user}, "
            f"popularity_exponent: {args.exponent}, seed: 0}}")
    popular: float | None = None
    for model in args.models.split(","):
        for epochs in [1] if args.smoke_test else [int(e) for e in args.epochs.split(",")]:
            with tempfile.TemporaryDirectory(prefix="raytrec-gap-") as tmp:
                run = train(CONFIGS[model], [
                    data, *IN_PROCESS, "mapper.dim=64", "sampler.num_negatives=20",
                    f"train.epochs={epochs}", "train.patience=null", "eval.every=1",
                    "eval.max_users=10000", "eval.test_max_users=10000", "eval.ease=false"],
                    Path(tmp) / "run")
                if popular is None:
                    popular = popularity_metrics(run.run_dir / "data", "test", [50],
                                                 max_users=10000, seed=0)["recall@50"]
                emit({"model": model, "epochs": epochs, "users": users, "items": items,
                      "per_user": args.per_user, "exponent": args.exponent,
                      "best_epoch": run.summary["best_epoch"],
                      "test_recall@50": round(run.summary["test"]["recall@50"], 4),
                      "popularity_test_recall@50": round(popular, 4),
                      "fit_seconds": round(run.fit_seconds, 1)})


if __name__ == "__main__":
    main()
