"""RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/session_baselines.py [--smoke-test]

Next-item baselines of the raytrec-gru4rec plugin on its two real data sets, split as GRU4Rec
splits (sessions ending in the last ``test_days`` are test, the ``valid_days`` before them
validation, evaluation items unseen in training dropped, then sessions shorter than two):

- ``yoochoose-sample``: the 1,000-session sample of the transformers4rec sdist, 1 day / 1 day;
- ``movielens-100k-sessions``: rating timelines cut at 1-hour gaps, 14 days / 14 days.

Rows: the item-kNN baseline (regularised cosine of session co-occurrence, λ = 20) and
popularity (items by training clicks), Recall@20 and MRR@20 over every test transition,
ranked among the whole training catalogue (rank = items scoring strictly higher + 1), and the
same with ties counted against the target (``conservative``). One JSON line per (data, model).
"""

from __future__ import annotations

import json
import sys

from common.setup import arguments

DATA = {"yoochoose-sample": ({}, 1.0), "movielens-100k-sessions": ({"gap_hours": 1.0}, 14.0)}


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__)
    parser.add_argument("--smoke-test", action="store_true", help="the Yoochoose sample only")
    args = parser.parse_args(argv)
    from raytrec_gru4rec.datasets import MovieLensSessions, YoochooseSample
    from raytrec_gru4rec.knn import ItemKNN
    from raytrec_gru4rec.popularity import popularity
    from raytrec_gru4rec.sessions import split_by_time

    loaders = {"yoochoose-sample": YoochooseSample, "movielens-100k-sessions": MovieLensSessions}
    names = list(DATA)[:1] if args.smoke_test else list(DATA)
    for name in names:
        kwargs, days = DATA[name]
        events = loaders[name](**kwargs).load().interactions.rename(columns={"user": "session"})
        split = split_by_time(events, test_days=days, valid_days=days)
        n = len(split.items)
        print(json.dumps({"data": name, "events": len(events), "items": n,
                          "sessions": [len(split.train), len(split.valid), len(split.test)],
                          "test_transitions": split.test.transitions}), flush=True)
        knn = ItemKNN(n).fit(split.train)
        for conservative in (False, True):
            rows = {"item-knn": knn.evaluate(split.test, [20], conservative),
                    "popularity": popularity(split.train, split.test, n, [20], conservative)}
            for model, metrics in rows.items():
                print(json.dumps({"data": name, "model": model, "conservative": conservative,
                                  **{k: round(v, 4) for k, v in metrics.items()}}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
